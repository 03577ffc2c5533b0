"""The data folder's lock: serialises writes of the derived files (the vector and keyword index
folders) and schema migrations between the processes sharing one data folder.

An advisory `flock` on a file of its own (`newsbot.lock`), never on news.db: SQLite locks its own file
with POSIX locks, and any other handle a process opens and closes on that file drops them all
(sqlite.org, "How To Corrupt An SQLite Database File", 2.2). Writers take it exclusively around a save
(so a save replaces the saved index only by a newer one), readers shared around a load (so no version
is removed while it is being read). The kernel releases it when its holder dies, even by kill -9.

Locks are not reentrant: `flock` on a second handle conflicts with the first, even in one process, so a
holder never takes it again.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "newsbot.lock"


@contextmanager
def folder_lock(data_dir: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the data folder's lock (exclusive unless `shared`) for the block, waiting for it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only handle releases the lock
