"""The SQL of feeds, their entries and the stories posted from them (tables of migration m010).

`FeedRows` works on a Store's connection under its lock; writes go through `Store.write()` (BEGIN
IMMEDIATE), so a poller in one process and a CLI command in another serialise like every other write."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

FEED_COLUMNS = (
    "id", "url", "title", "scope", "channel_id", "interval_s", "etag", "last_modified", "next_due",
    "last_checked", "last_ok", "last_new", "last_error", "failures", "broken", "paused", "added_by",
    "added_at",
)  # fmt: skip
_SELECT = (
    "SELECT " + ", ".join(f"f.{c}" for c in FEED_COLUMNS) + ", (SELECT count(DISTINCT e.article_id) FROM "
    "feed_entries e JOIN articles a ON a.id = e.article_id WHERE e.feed_id = f.id) AS articles FROM feeds f"
)
# Fields the poller may set after a check (never the feed's identity).
STATE_FIELDS = frozenset(
    {"title", "etag", "last_modified", "next_due", "last_checked", "last_ok", "last_new", "last_error",
     "failures", "broken"}
)  # fmt: skip


class FeedExists(ValueError):
    """The scope already follows this URL."""


class FeedRows:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _rows(self, where: str = "", args: Iterable[object] = ()) -> list[dict]:
        with self.store.lock:
            cursor = self.store.db.execute(f"{_SELECT} {where}", list(args))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- the feeds ------------------------------------------------------------------------------

    def add(self, row: dict) -> int:
        columns = [c for c in FEED_COLUMNS if c != "id" and c in row]
        sql = f"INSERT INTO feeds ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        try:
            with self.store.write():
                return self.store.db.execute(sql, [row[c] for c in columns]).lastrowid
        except sqlite3.IntegrityError:
            raise FeedExists(f"this feed is already followed ({row['url']})") from None

    def get(self, feed_id: int) -> dict | None:
        rows = self._rows("WHERE f.id = ?", [feed_id])
        return rows[0] if rows else None

    def all(self, scope: str | None = None) -> list[dict]:
        if scope is None:
            return self._rows("ORDER BY f.id")
        return self._rows("WHERE f.scope = ? ORDER BY f.id", [scope])

    def due(self, now: float, *, force: bool = False) -> list[dict]:
        """Feeds to check now (every unpaused feed when `force`), the longest overdue first."""
        if force:
            return self._rows("WHERE f.paused = 0 ORDER BY f.id")
        return self._rows("WHERE f.paused = 0 AND f.next_due <= ? ORDER BY f.next_due, f.id", [now])

    def next_due(self) -> float | None:
        with self.store.lock:
            return self.store.db.execute("SELECT min(next_due) FROM feeds WHERE paused = 0").fetchone()[0]

    def update(self, feed_id: int, fields: dict) -> None:
        assert set(fields) <= STATE_FIELDS | {"paused"}, fields
        if not fields:
            return
        sql = f"UPDATE feeds SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?"
        with self.store.write():
            self.store.db.execute(sql, [*fields.values(), feed_id])

    def pause_scope(self, scope: str) -> int:
        with self.store.write():
            return self.store.db.execute("UPDATE feeds SET paused = 1 WHERE scope = ?", [scope]).rowcount

    def delete(self, feed_id: int) -> None:
        with self.store.write():
            self.store.db.execute("DELETE FROM feed_entries WHERE feed_id = ?", [feed_id])
            self.store.db.execute("DELETE FROM feeds WHERE id = ?", [feed_id])

    # -- what each feed held --------------------------------------------------------------------

    def entries(self, feed_id: int) -> dict[str, str]:
        """entry key -> version of every entry already read from this feed."""
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT entry_key, version FROM feed_entries WHERE feed_id = ?", [feed_id]
            ).fetchall()
        return dict(rows)

    def record_entry(
        self, feed_id: int, key: str, version: str, article_id: str | None, seen_at: str, *, backlog: bool
    ) -> None:
        """Written after the entry's article committed (a crash in between re-reads the entry)."""
        with self.store.write():
            self.store.db.execute(
                "INSERT INTO feed_entries (feed_id, entry_key, version, article_id, seen_at, backlog) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed_id, entry_key) DO UPDATE SET "
                "version = excluded.version, "
                "article_id = coalesce(excluded.article_id, feed_entries.article_id), "
                "seen_at = excluded.seen_at",
                [feed_id, key, version, article_id, seen_at, int(backlog)],
            )

    def article_ids(self, feed_id: int) -> list[str]:
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT DISTINCT article_id FROM feed_entries WHERE feed_id = ? AND article_id IS NOT NULL",
                [feed_id],
            ).fetchall()
        return [r[0] for r in rows]

    # -- stories for channels -------------------------------------------------------------------

    def unposted(self) -> list[dict]:
        """Entries of unpaused feeds with a channel, not from a first poll, whose story (the main
        article) was not posted in the feed's scope; oldest first."""
        sql = (
            "SELECT f.id AS feed_id, f.scope, f.channel_id, coalesce(a.duplicate_of, a.id) AS story_id, "
            "e.article_id, e.seen_at FROM feed_entries e JOIN feeds f ON f.id = e.feed_id "
            "JOIN articles a ON a.id = e.article_id "
            "WHERE f.channel_id IS NOT NULL AND f.paused = 0 AND e.backlog = 0 AND NOT EXISTS "
            "(SELECT 1 FROM story_posts p WHERE p.scope = f.scope "
            "AND p.story_id = coalesce(a.duplicate_of, a.id)) "
            "ORDER BY e.seen_at, f.id"
        )
        with self.store.lock:
            cursor = self.store.db.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def feed_titles_of(self, scope: str, article_ids: list[str]) -> list[tuple[str, str | None]]:
        """(article id, feed title) of this scope's feeds that carried these articles."""
        if not article_ids:
            return []
        marks = ", ".join("?" for _ in article_ids)
        with self.store.lock:
            return self.store.db.execute(
                f"SELECT DISTINCT e.article_id, f.title FROM feed_entries e JOIN feeds f ON f.id = e.feed_id "
                f"WHERE f.scope = ? AND e.article_id IN ({marks})",
                [scope, *article_ids],
            ).fetchall()

    def mark_posted(self, scope: str, story_ids: Iterable[str], channel_id: int | None, at: str) -> None:
        with self.store.write():
            self.store.db.conn.executemany(
                "INSERT OR IGNORE INTO story_posts (scope, story_id, channel_id, posted_at) "
                "VALUES (?, ?, ?, ?)",
                [(scope, story_id, channel_id, at) for story_id in story_ids],
            )

    # -- freshness ------------------------------------------------------------------------------

    def freshness(self) -> list[dict]:
        """Each feed's latest successful poll, the most recent first."""
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT id, title, url, scope, last_ok FROM feeds ORDER BY last_ok IS NULL, last_ok DESC, id"
            ).fetchall()
        return [{"feed": r[0], "title": r[1], "url": r[2], "scope": r[3], "last_ok": r[4]} for r in rows]

    # -- what the bot reports back --------------------------------------------------------------

    def channel_failed(self, channel_id: int, reason: str, *, stop: bool) -> int:
        """Note on the feeds posting to a channel why posting failed; `stop`: post there no more."""
        detach = ", channel_id = NULL" if stop else ""
        with self.store.write():
            return self.store.db.execute(
                f"UPDATE feeds SET last_error = ?{detach} WHERE channel_id = ?", [reason, channel_id]
            ).rowcount

    def resume_scope(self, scope: str) -> int:
        with self.store.write():
            return self.store.db.execute("UPDATE feeds SET paused = 0 WHERE scope = ?", [scope]).rowcount
