"""A process's in-memory vector index kept in step with SQLite through the change log (migration m008).

Every passage added or removed is logged in the transaction that did it, in commit order. An index
records the log position it reflects (saved in its meta.json); catching up reads the passages touched
after it, a page at a time, and applies their state *now*: gone ones removed (and masked in the
keyword index), present ones added with the vectors SQLite stores. Applying the current state makes it
idempotent, so the same path serves a process's own writes, other processes' writes, loading a saved
index, and finishing a reindex that read SQLite while others wrote (docs/processes.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..storage.folder_lock import folder_lock
from ..storage.records import Changes
from ..storage.store import Store
from .vectors import VectorIndex, read_meta

log = logging.getLogger(__name__)

# Adds (chunk id, embed key, title, text) rows to an index, embedding passages with no stored vector.
AddRows = Callable[[VectorIndex, list[tuple[int, str, str, str]]], None]


def catch_up(store: Store, index: VectorIndex, add_rows: AddRows) -> bool:
    """Apply the passages SQLite added or removed after the index's position; True if it changed. An
    index of unknown position (older than the log) or behind the log's pruned start is compared with
    SQLite in full instead."""
    before = index.seq
    if index.seq is None or not follow_log(store, index, add_rows, exact=True):
        index.seq = store.change_seq()
        reconcile(store, index, add_rows)
        follow_log(store, index, add_rows, exact=False)
    return index.seq != before


def follow_log(store: Store, index: VectorIndex, add_rows: AddRows, *, exact: bool) -> bool:
    """Apply the log after the index's position, a page at a time; False if the log no longer reaches
    back to it. `exact`: the index reflects the log up to its position, so none of the passages present
    now is in it yet (chunk ids are never reused); otherwise those already in it are skipped."""
    while True:
        changes = store.changes_after(index.seq or 0)
        if changes is None:
            return False
        apply(store, index, changes, add_rows, exact=exact)
        if not changes.more:
            return True


def apply(store: Store, index: VectorIndex, changes: Changes, add_rows: AddRows, *, exact: bool) -> None:
    if changes.seq == index.seq:
        return
    index.remove(changes.removed)
    if store.impacts is not None:
        store.impacts.discard(changes.removed.tolist())
    added = changes.added
    if added and not exact:
        known = np.isin([chunk_id for chunk_id, _ in added], index.ids())
        added = [row for row, k in zip(added, known, strict=True) if not k]
    stored = store.vectors(key for _, key in added)
    ready = [(chunk_id, key) for chunk_id, key in added if key in stored]
    if ready:
        index.add(np.array([i for i, _ in ready]), np.stack([stored[k] for _, k in ready]))
    if len(ready) < len(added):  # a passage without its vector (never expected): embed it
        add_rows(index, store.chunk_rows([i for i, k in added if k not in stored]))
    index.seq = changes.seq
    store.forget_cached()


def reconcile(store: Store, index: VectorIndex, add_rows: AddRows) -> bool:
    """Bring the index in line with SQLite by comparing ids in full; True if it changed."""
    stored, indexed = store.chunk_ids(), index.ids()
    missing = np.setdiff1d(stored, indexed)
    stale = np.setdiff1d(indexed, stored)
    if len(stale):
        index.remove(stale)
        if store.impacts is not None:
            store.impacts.discard(stale.tolist())
    if len(missing):
        log.warning("adding %d passages missing from the vector index", len(missing))
        wanted = set(missing.tolist())
        for page in store.chunk_embed_keys():
            add_rows(index, [r for r in page if r[0] in wanted])
    return bool(len(missing) or len(stale))


def save_if_newer(index: VectorIndex, data_dir: Path, index_dir: Path, *, rebuilt: bool = False) -> None:
    """Save the index unless the saved one is as new (another process may have saved since), under the
    folder lock; a rebuilt index (reindex) also replaces one of the same position, or of another model."""
    with folder_lock(data_dir):
        saved = read_meta(index_dir) or {}
        same_model = saved.get("model") == index.model
        newer = saved.get("seq") is not None and index.seq is not None and saved["seq"] > index.seq
        if same_model and (newer or (saved.get("seq") == index.seq and not rebuilt)):
            return
        index.save(index_dir)


class Follower:
    """A thread that applies other processes' writes as they commit, so a question does not wait for
    them: woken by the store's change waiter (PostgreSQL's LISTEN/NOTIFY, SQLite's `data_version`
    polled), and at least every `every` seconds (a notification missed while reconnecting)."""

    def __init__(self, store: Store, apply: Callable[[], None], *, every: float = 5.0):
        self.store, self.apply, self.every = store, apply, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsbot-follower", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        waiter = None
        while not self._stop.is_set():
            try:
                waiter = waiter or self.store.change_waiter()
                deadline = time.monotonic() + self.every
                while not self._stop.is_set() and not waiter.wait(0.5) and time.monotonic() < deadline:
                    pass
                if not self._stop.is_set():
                    self.apply()
            except Exception:  # (a database restart, say): wait, then listen again
                log.exception("following the change log failed; retrying")
                if waiter is not None:
                    with contextlib.suppress(Exception):  # (already broken)
                        waiter.close()
                waiter = None
                self._stop.wait(2.0)
        if waiter is not None:
            waiter.close()
