"""Which saved keyword (impact) index the store serves BM25 from: read once, followed when another
process saves a newer one, rebuilt from SQLite by a reindex. FTS5 ranks whatever it lacks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..storage.folder_lock import folder_lock
from ..storage.store import Store
from ..storage.versions import current_version
from . import resident
from .faiss_kinds import release_freed_memory
from .lexical import ImpactIndex
from .lexical_build import BuildFailed, build_and_save, build_in_child

log = logging.getLogger(__name__)

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

    def build(self, progress: Progress) -> bool:
        """Rebuild the impact index from SQLite and switch to it (FTS5 serves searches meanwhile);
        False (logged) if the build failed: the index served stays, and a later build tries again.

        A store on disk is built in a child process (index/retrieval/lexical_build.py): the build
        never holds this process's interpreter, whose event loop (the bot's) keeps running."""
        if self.store.path == ":memory:":  # (no file for a child to read: tests and notebooks)
            self._build_here(progress)
        else:
            try:
                build_in_child(
                    self.store.path,
                    self.data_dir,
                    self.lexical_dir,
                    lambda n: progress("lexical", n, None),
                    database_url=self.store.url,
                )
            except (BuildFailed, OSError) as error:
                log.warning("the keyword index was not rebuilt (FTS5 ranks what it lacks): %s", error)
                return False
        self._attach(self._read())
        return True

    def _build_here(self, progress: Progress) -> None:
        build_and_save(self.store, self.data_dir, self.lexical_dir, lambda n: progress("lexical", n, None))
        release_freed_memory()  # the build's arrays, before the saved ones load

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
