"""The SQL of topic alerts, the queue of new stories and the (alert, story) posts (tables of m011).

`AlertRows` works on a Store's connection under its lock; writes go through `Store.write()` (BEGIN
IMMEDIATE), so the bot and a CLI in another process serialise on them like every other write."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from .select import TableRows, placeholders

ALERT_COLUMNS = (
    "id", "scope", "target", "topic", "topic_key", "vector", "model", "created_by", "created_at", "paused",
    "last_error", "from_seq",
)  # fmt: skip
SEQ_KEY = "alerts_seq"  # the queue position the matcher has read up to


class AlertExists(ValueError):
    """The target already follows this topic."""


class AlertRows(TableRows):
    # -- alerts ---------------------------------------------------------------------------------

    def add(self, row: dict, *, limit_per_target: int) -> int:
        """Insert an alert; AlertExists for the same topic, OverflowError past the target's limit
        (both checked in the write transaction, so two processes cannot pass the limit together)."""
        columns = [c for c in ALERT_COLUMNS if c not in ("id", "from_seq") and c in row]
        sql = (
            f"INSERT INTO alerts ({', '.join(columns)}, from_seq) VALUES ({placeholders(columns)}, "
            "(SELECT coalesce(max(seq), 0) FROM alert_queue))"
        )
        try:
            with self.store.write():
                count = self.store.db.execute(
                    "SELECT count(*) FROM alerts WHERE scope = ? AND target = ?",
                    [row["scope"], row["target"]],
                ).fetchone()[0]
                if count >= limit_per_target:
                    raise OverflowError(count)
                return self.store.db.execute(sql, [row[c] for c in columns]).lastrowid
        except sqlite3.IntegrityError:
            raise AlertExists(row["topic"]) from None

    def get(self, alert_id: int) -> dict | None:
        rows = self._rows(f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE id = ?", [alert_id])
        return rows[0] if rows else None

    def all(self, *, scope: str | None = None, target: str | None = None) -> list[dict]:
        where, args = [], []
        if scope is not None:
            where.append("scope = ?")
            args.append(scope)
        if target is not None:
            where.append("target = ?")
            args.append(target)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self._rows(f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts {clause} ORDER BY id", args)

    def delete(self, alert_id: int) -> None:
        with self.store.write():
            self.store.db.execute("DELETE FROM alert_posts WHERE alert_id = ?", [alert_id])
            self.store.db.execute("DELETE FROM alerts WHERE id = ?", [alert_id])

    def set_state(self, alert_id: int, *, paused: bool, last_error: str | None) -> None:
        with self.store.write():
            self.store.db.execute(
                "UPDATE alerts SET paused = ?, last_error = ? WHERE id = ?",
                [int(paused), last_error, alert_id],
            )

    def pause_scope(self, scope: str, reason: str) -> int:
        """Pause the scope's running alerts, `reason` as their last error. How many."""
        with self.store.write():
            return self.store.db.execute(
                "UPDATE alerts SET paused = 1, last_error = ? WHERE scope = ? AND paused = 0", [reason, scope]
            ).rowcount

    def resume_scope(self, scope: str, reason: str) -> int:
        """Resume the scope's alerts paused for `reason` (others stay paused for theirs). How many."""
        with self.store.write():
            return self.store.db.execute(
                "UPDATE alerts SET paused = 0, last_error = NULL WHERE scope = ? AND paused = 1 "
                "AND last_error = ?",
                [scope, reason],
            ).rowcount

    def set_error(self, target: str, reason: str, *, pause: bool) -> int:
        """Note on every alert of `target` why delivering failed; `pause` stops them. How many."""
        with self.store.write():
            return self.store.db.execute(
                "UPDATE alerts SET last_error = ?, paused = CASE WHEN ? = 1 THEN 1 ELSE paused END "
                "WHERE target = ?",
                [reason, int(pause), target],
            ).rowcount

    def passage_vectors(self, article_id: str) -> np.ndarray:
        """The stored vectors of an article's passages, one row each (none: shape (0, 0))."""
        sql = (
            "SELECT e.vector FROM chunks c CROSS JOIN embeddings e ON e.key = c.embed_key "
            "WHERE c.article_id = ? ORDER BY c.position"
        )
        with self.store.lock:
            blobs = [row[0] for row in self.store.db.execute(sql, [article_id])]
        if not blobs:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])

    # -- the queue of new stories ----------------------------------------------------------------

    def queued_after(self, seq: int, limit: int) -> list[tuple[int, str]]:
        with self.store.lock:
            return self.store.db.execute(
                "SELECT seq, article_id FROM alert_queue WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]
            ).fetchall()

    def seen_seq(self) -> int:
        value = self.store.meta(SEQ_KEY)
        return int(value) if value else 0

    def backlog(self, article_ids: Sequence[str]) -> set[str]:
        """Those of these articles a feed brought only in its first poll (its backlog, never new)."""
        if not article_ids:
            return set()
        sql = (
            f"SELECT article_id FROM feed_entries WHERE article_id IN ({placeholders(article_ids)}) "
            "GROUP BY article_id HAVING min(backlog) = 1"
        )
        with self.store.lock:
            return {row[0] for row in self.store.db.execute(sql, list(article_ids))}

    def record_matches(self, rows: Sequence[tuple], seq: int) -> int:
        """Insert (alert_id, story_id, score, start, end, matched_at) rows as pending (an (alert, story)
        already matched is left alone), move the high-water mark to `seq` and drop the queue up to it,
        in one transaction."""
        with self.store.write():
            added = 0
            for row in rows:
                added += self.store.db.execute(
                    "INSERT OR IGNORE INTO alert_posts "
                    '(alert_id, story_id, score, start, "end", state, matched_at) '
                    "SELECT ?, ?, ?, ?, ?, 'pending', ? WHERE EXISTS (SELECT 1 FROM alerts WHERE id = ?)",
                    [*row, row[0]],
                ).rowcount
            self.store.db.execute(  # the mark only moves forward
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                "CASE WHEN CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER) "
                "THEN excluded.value ELSE meta.value END",
                [SEQ_KEY, str(seq)],
            )
            self.store.db.execute(  # read by every process: what is past the mark is done for all
                "DELETE FROM alert_queue WHERE seq <= "
                "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?)",
                [SEQ_KEY],
            )
        return added

    # -- posts ----------------------------------------------------------------------------------

    def posts(self, states: Sequence[str], *, target: str | None = None) -> list[dict]:
        """Posts in these states with their alert's scope, target and topic, oldest match first."""
        sql = (
            'SELECT p.alert_id, p.story_id, p.score, p.start, p."end", p.state, p.matched_at, p.claimed_at, '
            "p.posted_at, a.scope, a.target, a.topic FROM alert_posts p JOIN alerts a ON a.id = p.alert_id "
            f"WHERE p.state IN ({placeholders(states)}) AND a.paused = 0"
        )
        args: list[object] = list(states)
        if target is not None:
            sql += " AND a.target = ?"
            args.append(target)
        return self._rows(sql + " ORDER BY p.matched_at, p.alert_id, p.story_id", args)

    def sent_since(self, target: str, since: float) -> int:
        """Messages posted (or being posted) to `target` since then: what counts against its cap."""
        with self.store.lock:
            return self.store.db.execute(
                "SELECT count(*) FROM alert_posts p JOIN alerts a ON a.id = p.alert_id WHERE a.target = ? "
                "AND ((p.state = 'posted' AND p.posted_at >= ?) OR p.state = 'claimed')",
                [target, since],
            ).fetchone()[0]

    def claim(
        self, keys: Sequence[tuple[int, str]], now: float, *, stale_before: float
    ) -> list[tuple[int, str]]:
        """Claim these (alert, story) posts for posting: those pending or deferred, or claimed before
        `stale_before` (a poster that died). Returns the keys this caller won."""
        won = []
        with self.store.write():
            for alert_id, story_id in keys:
                cursor = self.store.db.execute(
                    "UPDATE alert_posts SET state = 'claimed', claimed_at = ? WHERE alert_id = ? "
                    "AND story_id = ? AND (state IN ('pending', 'deferred') OR (state = 'claimed' "
                    "AND claimed_at < ?))",
                    [now, alert_id, story_id, stale_before],
                )
                if cursor.rowcount:
                    won.append((alert_id, story_id))
        return won

    def set_posts(self, keys: Iterable[tuple[int, str]], state: str, *, now: float | None = None) -> None:
        with self.store.write():
            self.store.db.conn.executemany(
                "UPDATE alert_posts SET state = ?, posted_at = coalesce(?, posted_at) "
                "WHERE alert_id = ? AND story_id = ?",
                [(state, now, alert_id, story_id) for alert_id, story_id in keys],
            )
