"""Derived indexes on disk as version folders named by a `CURRENT` pointer, switched in one rename.

A new version is written into a hidden staging folder beside the live one, flushed to disk, renamed
into place, and only then does `CURRENT` point at it (an atomic `os.replace`), so a crash at any moment
leaves the previous version in use. Used by the vector index and the BM25 impact index.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path


def publish(folder: Path, write: Callable[[Path], None]) -> Path:
    """Write a new version with `write(staging folder)`, make it live, drop older ones; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    version = f"v-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
    staging = folder / f".{version}.tmp"
    staging.mkdir()
    try:
        write(staging)
        fsync_files(staging)
        os.replace(staging, folder / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_atomic(folder / "CURRENT", version)
    remove_old_versions(folder, keep=version)
    return folder / version


def current_version(folder: Path) -> Path | None:
    pointer = folder / "CURRENT"
    if not pointer.exists():
        return None
    live = folder / pointer.read_text().strip()
    return live if (live / "meta.json").exists() else None


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(3)}.tmp")
    try:
        with open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fsync_files(path: Path) -> None:
    for file in path.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())


def remove_old_versions(folder: Path, keep: str, stale_after: float = 3600.0) -> None:
    """Older versions go; another writer's staging folder goes only once it is clearly abandoned."""
    now = time.time()
    for entry in folder.iterdir():
        if not entry.is_dir() or entry.name == keep:
            continue
        if entry.name.startswith(".") and now - entry.stat().st_mtime < stale_after:
            continue
        shutil.rmtree(entry, ignore_errors=True)
