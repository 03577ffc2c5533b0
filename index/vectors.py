"""The FAISS index on disk: a directory holding the index file and its metadata, swapped in atomically.

Layout of `index_dir`:
    CURRENT                 the name of the live version (replaced with os.replace)
    v-<time>-<rand>/        index.faiss + meta.json (model, dimension, count, kind, built_at)

Readers follow CURRENT, so a crash while writing a new version leaves the previous one in use.
FAISS ids are SQLite chunk ids; the index can always be rebuilt from SQLite.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)


class IndexMismatch(RuntimeError):
    """The saved index was built with another model or dimension."""


@dataclass(frozen=True)
class IndexMeta:
    model: str
    dimension: int
    count: int
    kind: str
    built_at: str

    def to_json(self) -> dict:
        return self.__dict__.copy()


class VectorIndex:
    """Exact inner-product search over normalised vectors, keyed by chunk id."""

    def __init__(self, model: str, dimension: int, index: faiss.Index | None = None, built_at: str = ""):
        self.model = model
        self.dimension = dimension
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self.built_at = built_at
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def meta(self) -> IndexMeta:
        return IndexMeta(self.model, self.dimension, self.count, "flat", self.built_at)

    def ids(self) -> np.ndarray:
        with self._lock:
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise IndexMismatch(f"vectors have dimension {vectors.shape[1]}, the index {self.dimension}")
        with self._lock:
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        with self._lock:
            return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest passages, optionally only among `allowed` ids."""
        if self.count == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        with self._lock:
            scores, ids = self.index.search(query, min(k, self.count), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    # -- persistence ----------------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write a new version beside the live one, then point CURRENT at it in one rename."""
        index_dir.mkdir(parents=True, exist_ok=True)
        self.built_at = _now()
        version = f"v-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        staging = index_dir / f".{version}.tmp"
        staging.mkdir()
        with self._lock:
            faiss.write_index(self.index, str(staging / "index.faiss"))
            meta = self.meta()
        _write_atomic(staging / "meta.json", json.dumps(meta.to_json(), indent=2))
        _fsync_dir(staging)
        os.replace(staging, index_dir / version)
        _write_atomic(index_dir / "CURRENT", version)
        _remove_old_versions(index_dir, keep=version)
        return index_dir / version

    @classmethod
    def load(cls, index_dir: Path, model: str, dimension: int) -> VectorIndex | None:
        """The live index, or None if there is none yet. Refuses an index of another model."""
        live = current_version(index_dir)
        if live is None:
            return None
        meta = json.loads((live / "meta.json").read_text())
        if meta["model"] != model or int(meta["dimension"]) != dimension:
            raise IndexMismatch(
                f"the vector index was built with model {meta['model']!r} (dimension {meta['dimension']}) "
                f"but newsbot is configured for {model!r} (dimension {dimension}); run `newsbot reindex`"
            )
        index = faiss.read_index(str(live / "index.faiss"))
        return cls(model, dimension, index, built_at=meta.get("built_at", ""))


def current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        return None
    live = index_dir / pointer.read_text().strip()
    return live if (live / "meta.json").exists() else None


def read_meta(index_dir: Path) -> dict | None:
    live = current_version(index_dir)
    return json.loads((live / "meta.json").read_text()) if live else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(3)}.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    for file in path.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)
