"""The change log: what other processes follow to keep their derived indexes in step."""

from __future__ import annotations

import threading
import time

import numpy as np
from sqlite_utils import Database

from .records import Changes
from .select import placeholders


class ChangeLog:
    """The change log (migration m008): which passages changed after a position, for other processes."""

    db: Database
    lock: threading.RLock

    def data_version(self) -> int:
        """SQLite's count of commits by other connections: unchanged means nothing to follow."""
        with self.lock:
            return self.db.execute("PRAGMA data_version").fetchone()[0]

    def change_waiter(self) -> ChangeWaiter:
        """What a follower waits on for other processes' commits (PostgreSQL's is woken by NOTIFY)."""
        return PollingWaiter(self)

    def sync_fulltext(self) -> None:
        """Bring a local full-text index up to the log (SQLite's FTS5 is in the database itself)."""
        return None

    def change_seq(self) -> int:
        """The change log's newest position."""
        with self.lock:
            return self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]

    def changes_after(self, seq: int, limit: int = 10_000) -> Changes | None:
        """The passages touched in the next `limit` positions after `seq`, with their state read in
        the same snapshot; None if the log no longer reaches back that far (pruned by a reindex)."""
        with self.lock:
            own = not self.db.conn.in_transaction
            if own:
                self.db.execute("BEGIN")
            try:
                if seq < int(self.meta("changes_pruned") or 0):
                    return None
                logged = self.db.execute(
                    "SELECT seq, chunk_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]
                ).fetchall()
                touched = sorted({chunk_id for _, chunk_id in logged})
                added: list[tuple[int, str]] = []
                for i in range(0, len(touched), 500):
                    batch = touched[i : i + 500]
                    sql = f"SELECT id, embed_key FROM chunks WHERE id IN ({placeholders(batch)}) ORDER BY id"
                    added += self.db.execute(sql, batch).fetchall()
            finally:
                if own:
                    self.db.execute("COMMIT")
        present = {chunk_id for chunk_id, _ in added}
        removed = np.array([i for i in touched if i not in present], dtype=np.int64)
        return Changes(logged[-1][0] if logged else seq, removed, added, more=len(logged) == limit)

    def prune_changes(self, before: int) -> None:
        """After a reindex that read SQLite at position `before`: forget the log up to the previous
        reindex's position. A process still behind that (idle since before two reindexes) compares
        its index with SQLite in full instead of following the log."""
        with self.write():
            through = int(self.meta("reindex_seq") or 0)
            self.db.execute("DELETE FROM changes WHERE seq <= ?", [through])
            self.set_meta("changes_pruned", str(through))
            self.set_meta("reindex_seq", str(before))


class ChangeWaiter:
    """Waits for a commit of another process; `wait` may also return early or late (followers read
    the log's position anyway, so a wake-up is a hint, never the change itself)."""

    def wait(self, timeout: float) -> bool:
        """True if something may have changed within `timeout` seconds."""
        raise NotImplementedError

    def close(self) -> None:
        return None


class PollingWaiter(ChangeWaiter):
    """SQLite: reads `data_version` (other connections' commits) a few times a second."""

    def __init__(self, store: ChangeLog, every: float = 0.25):
        self.store, self.every = store, every
        self.seen = store.data_version()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            now = self.store.data_version()
            if now != self.seen:
                self.seen = now
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(self.every, max(0.0, deadline - time.monotonic())))
