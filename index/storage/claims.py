"""Claims: which scope brought each article and how (migration m009), and what a viewer may see.

A story's main article carries the claims of every scope that brought the story (itself or one of its
near-duplicate copies); a copy carries the claims of the scopes that brought that copy. Visibility is
decided on the main article (which story a viewer sees) and on copies (which other outlets a viewer is
told about). The operator's news is most of a store and each server's own news a small part, so reads
find what a viewer may NOT see (other servers' own stories: small) rather than what it may."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
from sqlite_utils import Database

from ..scopes import OPERATOR, visible_scopes
from .select import placeholders

GUILDS = ("guild:", "guild;")  # the range of guild scopes (';' follows ':'), so the scope index serves it
CACHED_VIEWERS = 64
INSERT_CLAIM = "INSERT OR IGNORE INTO article_claims (article_id, scope, via, claimed_at) VALUES (?, ?, ?, ?)"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Claims:
    """Claims written with the articles they are on, released, and read as visibility."""

    db: Database
    lock: threading.RLock
    # (and Store.write, Articles.delete_article)

    # -- writing (inside the caller's transaction) ------------------------------------------------

    def _insert_claims(self, article_id: str, story_id: str | None, scope: str, via: str) -> None:
        at = now_iso()
        for target in dict.fromkeys(filter(None, (article_id, story_id))):
            self.db.execute(INSERT_CLAIM, [target, scope, via, at])

    def _claims_rows(self, article_id: str) -> list[tuple[str, str, str]]:
        return self.db.execute(
            "SELECT scope, via, claimed_at FROM article_claims WHERE article_id = ?", [article_id]
        ).fetchall()

    def _put_claims(self, article_id: str, rows: Iterable[tuple[str, str, str]]) -> None:
        self.db.conn.executemany(INSERT_CLAIM, [(article_id, *row) for row in rows])

    def claim(self, article_id: str, scope: str, via: str) -> str | None:
        """Record that `scope` brought this stored article (a duplicate of one already stored): on it
        and on its story. Returns the story's id, or None if the article is gone meanwhile."""
        with self.write():
            row = self.db.execute("SELECT duplicate_of FROM articles WHERE id = ?", [article_id]).fetchone()
            if row is None:
                return None
            story = row[0] or article_id
            self._insert_claims(article_id, story, scope, via)
        return story

    def claims_of(self, article_id: str) -> list[tuple[str, str]]:
        """(scope, via) of every claim on this article."""
        with self.lock:
            rows = self.db.execute(
                "SELECT scope, via FROM article_claims WHERE article_id = ? ORDER BY scope, via", [article_id]
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def story_of(self, article_id: str) -> str | None:
        """The main article of this article's story (itself when it is one); None if not stored."""
        with self.lock:
            row = self.db.execute("SELECT duplicate_of FROM articles WHERE id = ?", [article_id]).fetchone()
        return None if row is None else (row[0] or article_id)

    def release_claims(self, article_ids: Iterable[str], scope: str, via: str | None) -> tuple[list, list]:
        """Drop `scope`'s claims (of `via`, or all) on these articles' stories and their copies, in one
        transaction. Copies left with no claim are deleted; a story left with no claim is deleted too
        when no copy is left, else returned to be handed to a copy (the caller re-indexes it).

        Returns (deleted article ids, stories left unclaimed that still have copies)."""
        deleted: list[str] = []
        orphans: list[str] = []
        with self.write():
            stories = dict.fromkeys(s for s in (self.story_of(a) for a in article_ids) if s)
            for story in stories:
                group = [story] + [
                    r[0] for r in self.db.execute("SELECT id FROM articles WHERE duplicate_of = ?", [story])
                ]
                sql = f"DELETE FROM article_claims WHERE article_id IN ({placeholders(group)}) AND scope = ?"
                params = [*group, scope]
                if via is not None:
                    sql += " AND via = ?"
                    params.append(via)
                self.db.execute(sql, params)
                for member in group[1:]:
                    if not self._claimed(member):
                        self.delete_article(member)
                        deleted.append(member)
                if self._claimed(story):
                    continue
                copies = self.db.execute("SELECT 1 FROM articles WHERE duplicate_of = ? LIMIT 1", [story])
                if copies.fetchone():
                    orphans.append(story)  # (only copies stored before claims existed can be left)
                else:
                    self.delete_article(story)
                    deleted.append(story)
        return deleted, orphans

    def _claimed(self, article_id: str) -> bool:
        sql = "SELECT 1 FROM article_claims WHERE article_id = ? LIMIT 1"
        return self.db.execute(sql, [article_id]).fetchone() is not None

    # -- reading ----------------------------------------------------------------------------------

    def claimed_stories(self, scope: str, *, limit: int | None = None) -> list[tuple[str, str]]:
        """(id, title) of the stories `scope` claims, newest first (what a server may remove)."""
        sql = (
            "SELECT DISTINCT a.id, a.title, a.published FROM article_claims c CROSS JOIN articles a "
            "ON a.id = c.article_id WHERE c.scope = ? AND a.duplicate_of IS NULL "
            "ORDER BY a.published DESC NULLS LAST, a.id"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            return [(r[0], r[1]) for r in self.db.execute(sql, [scope])]

    def visible(self, article_id: str, viewer: str | None) -> bool:
        """Whether `viewer` may see this article (a story or a copy)."""
        if viewer is None:
            return True
        scopes = visible_scopes(viewer)
        with self.lock:
            rows = [
                r[0]
                for r in self.db.execute(
                    "SELECT DISTINCT scope FROM article_claims WHERE article_id = ?", [article_id]
                )
            ]
        return not rows or any(s in scopes for s in rows)

    def claims_version(self) -> int:
        """Counts changes of the servers' claims and of their stories' passages (triggers of m009), by
        any process: what a viewer may not see changes only with it."""
        with self.lock:
            return self.db.execute("SELECT version FROM claims_version WHERE id = 1").fetchone()[0]

    def guild_only(self) -> dict[str, tuple[frozenset[str], str, str | None]]:
        """story id -> (the guild scopes claiming it, its outlet, its date) for the stories the operator
        does not claim: the servers' own news, a small part of a store. Kept until the servers' claims
        change (`claims_version`), in this process or another."""
        key = self.claims_version()
        with self.lock:
            cached = getattr(self, "_guild_only", None)
            if cached is not None and cached[0] == key:
                return cached[1]
            found: dict[str, tuple[set[str], str, str | None]] = {}
            for story, scope, source, published in self.db.execute(
                "SELECT c.article_id, c.scope, coalesce(a.source, 'unknown'), a.published "
                "FROM article_claims c CROSS JOIN articles a ON a.id = c.article_id "
                "WHERE c.scope >= ? AND c.scope < ? AND a.duplicate_of IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM article_claims o WHERE o.article_id = c.article_id AND o.scope = ?)",
                [*GUILDS, OPERATOR],
            ):
                found.setdefault(story, (set(), source, published))[0].add(scope)
            result = {story: (frozenset(s), source, day) for story, (s, source, day) in found.items()}
            self._guild_only = (key, result)
            self._hidden: dict[str | None, np.ndarray] = {}
            self._hidden_outlets: dict[str | None, dict[str, list]] = {}
            return result

    def hidden_stories(self, viewer: str | None) -> list[str]:
        """The stories `viewer` may not see (other servers' own news)."""
        if viewer is None:
            return []
        return sorted(story for story, (scopes, *_) in self.guild_only().items() if viewer not in scopes)

    def hidden_outlets(self, viewer: str) -> dict[str, list]:
        """outlet -> [(story id, date)] of the stories `viewer` may not see."""
        with self.lock:
            self.guild_only()
            by_outlet = self._hidden_outlets.get(viewer)
            if by_outlet is None:
                by_outlet = {}
                for story, (scopes, source, published) in self._guild_only[1].items():
                    if viewer not in scopes:
                        by_outlet.setdefault(source, []).append((story, published))
                self._hidden_outlets[viewer] = by_outlet
            return by_outlet

    def hidden_chunks(self, viewer: str | None) -> np.ndarray:
        """The passages (sorted ids) of the stories `viewer` may not see; empty for most viewers of
        most stores. Kept per viewer until the servers' claims change."""
        if viewer is None:
            return np.zeros(0, dtype=np.int64)
        with self.lock:
            self.guild_only()  # (empties the caches below when the claims changed)
            hidden = self._hidden.get(viewer)
            if hidden is None:
                stories = self.hidden_stories(viewer)
                ids: list[int] = []
                for i in range(0, len(stories), 500):
                    batch = stories[i : i + 500]
                    ids += [
                        r[0]
                        for r in self.db.execute(
                            f"SELECT id FROM chunks WHERE article_id IN ({placeholders(batch)})", batch
                        )
                    ]
                hidden = np.sort(np.array(ids, dtype=np.int64))
                hidden.flags.writeable = False
                if len(self._hidden) >= CACHED_VIEWERS:
                    self._hidden.pop(next(iter(self._hidden)))
                self._hidden[viewer] = hidden
            return hidden
