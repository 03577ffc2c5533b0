"""Which saved keyword (impact) index the store serves BM25 from: read once, followed when another
process saves a newer one, rebuilt from SQLite by a reindex. FTS5 ranks whatever it lacks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..storage.folder_lock import folder_lock
from ..storage.store import Store
from ..storage.versions import current_version
from . import resident
from .faiss_kinds import release_freed_memory
from .lexical import ImpactIndex, saved_seq

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


class LexicalServing:
    def __init__(self, store: Store, data_dir: Path, lexical_dir: Path, *, resident: bool) -> None:
        self.store = store
        self.data_dir = data_dir
        self.lexical_dir = lexical_dir
        self.resident = resident  # page the served index into memory (docs/performance.md)
        self.loaded = False
        self.version: Path | None = None  # the saved version being served

    def load(self) -> None:
        """The impact index on disk, once (search and reindex both need it; reindex may come first)."""
        if not self.loaded:
            self._attach(self._read())

    def follow(self) -> None:
        """Serve the keyword index another process saved since this one was loaded (the one served
        stays correct, with FTS5 ranking what it lacks, but slower as that grows)."""
        if self.loaded and current_version(self.lexical_dir) != self.version:
            self._attach(self._read())
            self.page_in(self.store.impacts)

    def is_current(self) -> bool:
        """The impact index covers exactly the passages SQLite holds (nothing added or removed since)."""
        self.load()
        impacts = self.store.impacts
        return impacts is not None and not impacts.dead and not self.store.passages_after(impacts.max_id)

    def build(self, progress: Progress) -> None:
        """Rebuild the impact index from SQLite and switch to it (FTS5 serves searches meanwhile)."""
        index = ImpactIndex.build(self.store.lexical_corpus(), lambda n: progress("lexical", n, None))
        with folder_lock(self.data_dir):  # replaced only by a newer build (another process's?)
            saved = saved_seq(self.lexical_dir)
            if saved is None or saved < index.seq:
                index.save(self.lexical_dir)
        del index
        release_freed_memory()  # the build's arrays, before the saved ones load
        self._attach(self._read())

    def page_in(self, index: ImpactIndex | None) -> None:
        """In the background, GIL released while it reads: page the impact index into memory if the
        settings say so (every search reads it)."""
        if index is None or not self.resident:
            return
        arrays = index.arrays()
        threading.Thread(
            target=resident.populate, args=(arrays,), daemon=True, name="newsbot-page-in"
        ).start()

    def _read(self) -> ImpactIndex | None:
        with folder_lock(self.data_dir, shared=True):  # no version is removed while read
            self.version = current_version(self.lexical_dir)
            return ImpactIndex.load(self.lexical_dir)

    def _attach(self, index: ImpactIndex | None) -> None:
        """Serve BM25 from this impact index, masking passages removed from SQLite since its build."""
        if index is not None:
            index.discard(np.setdiff1d(index.chunk_ids, self.store.chunk_ids()))
        self.page_in(index)
        self.store.impacts = index
        self.loaded = True
