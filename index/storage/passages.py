"""Reading passages: by id, with their article, and the ids a filter allows."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
from sqlite_utils import Database

from .records import Filters, viewer_clause
from .select import select_in


class Passages:
    """Passages read by id for search and citations, and which passages a filter allows."""

    db: Database
    lock: threading.RLock

    def passages(self, chunk_ids: Sequence[int], viewer: str | None = None) -> dict[int, tuple]:
        """chunk id -> (chunk id, article id, start, end, text, title, source, url, published): a hit,
        for the passages that exist in articles that are not copies of another (and that `viewer` may
        see: checked here again, on the few passages picked, whatever the indexes let through)."""
        where, params = viewer_clause("a", viewer)
        sql = (
            "SELECT c.id, c.article_id, c.start, c.end, c.text, a.title, a.source, a.url, a.published "
            # CROSS JOIN keeps SQLite from scanning articles first: look the chunks up by id, then
            # their articles in the citation index, which holds all this reads (migration m007).
            "FROM chunks c CROSS JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({{marks}}) AND a.duplicate_of IS NULL AND {where}"
        )
        return {r[0]: r for r in select_in(self.db, self.lock, sql, list(chunk_ids), params)}

    def passage_texts(self, chunk_ids: Sequence[int]) -> dict[int, tuple]:
        """chunk id -> (chunk id, article id, text, sentences) of the passages that exist: what search
        ranks and picks by. Only the picked ones are then read with their article (`passages`): every
        passage read with its article costs another page read (its entry in the citation index), from
        disk when the store is not in the page cache."""
        sql = "SELECT id, article_id, text, sentences FROM chunks WHERE id IN ({marks})"
        return {r[0]: r for r in select_in(self.db, self.lock, sql, list(chunk_ids))}

    def passage_facts(self, chunk_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """chunk id -> (outlet, published) of the passages that exist.

        Search boosts hundreds of candidates by these alone: they come from the impact index's arrays
        where it covers the passage (a text-keyed article lookup per passage costs more than the rest
        of the query), from SQLite for the others."""
        if not chunk_ids:
            return {}
        known = self.impacts.describe(list(chunk_ids)) if self.impacts is not None else {}
        missing = [cid for cid in chunk_ids if cid not in known]
        sql = (
            "SELECT c.id, a.source, a.published FROM chunks c CROSS JOIN articles a "
            "ON a.id = c.article_id WHERE c.id IN ({marks})"
        )
        known.update((r[0], (r[1], r[2])) for r in select_in(self.db, self.lock, sql, missing))
        return known

    def allowed_chunk_ids(self, filters: Filters) -> np.ndarray:
        impacts, after = self.impacts, 0
        head = np.zeros(0, dtype=np.int64)
        if impacts is not None:
            head, after = impacts.allowed(filters.since, filters.until, filters.sources), impacts.max_id
            if filters.viewer is not None:  # (the SQL below sees the viewer's claims itself)
                head = head[~np.isin(head, self.hidden_chunks(filters.viewer))]
        where, params = filters.sql("a")
        join = "CROSS JOIN" if after else "JOIN"  # after: walk the newer passages, then their articles
        sql = f"SELECT c.id FROM chunks c {join} articles a ON a.id = c.article_id WHERE c.id > ? AND {where}"
        with self.lock:
            tail = np.fromiter((r[0] for r in self.db.execute(sql, [after, *params])), dtype=np.int64)
        return np.concatenate([head, tail]) if len(head) else tail

    def among(self, chunk_ids: Iterable[int], filters: Filters) -> set[int]:
        """The passages among `chunk_ids` that exist and pass `filters` (cheaper than listing all
        allowed ids when a filter allows a large share of a large store)."""
        ids = np.fromiter(set(chunk_ids), dtype=np.int64)
        if self.impacts is None:  # a small store: the allowed list comes straight from the indexes
            return set(self.allowed_chunk_ids(filters).tolist()).intersection(ids.tolist())
        covered, passing = self.impacts.among(ids, filters.since, filters.until, filters.sources)
        if filters.viewer is not None:
            passing &= ~np.isin(ids, self.hidden_chunks(filters.viewer))
        keep = set(ids[passing].tolist())
        ids = ids[~covered]  # newer than the impact index: ask SQLite
        where, params = filters.sql("a")
        sql = (
            "SELECT c.id FROM chunks c CROSS JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({{marks}}) AND {where}"
        )
        keep.update(r[0] for r in select_in(self.db, self.lock, sql, ids.tolist(), params))
        return keep

    def passage_count(self) -> int:
        """How many passages there are (from the impact index's arrays when there is one: a count(*)
        reads every row)."""
        impacts = self.impacts
        if impacts is None:
            with self.lock:
                return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        tail = self.passages_after(impacts.max_id) if self._newest_chunk > impacts.max_id else 0
        return impacts.size - impacts.dead + tail

    def passages_after(self, chunk_id: int) -> int:
        """How many passages are newer than `chunk_id` (those the impact index does not cover)."""
        with self.lock:
            return self.db.execute("SELECT count(*) FROM chunks WHERE id > ?", [chunk_id]).fetchone()[0]

    def chunk_ids(self) -> np.ndarray:
        with self.lock:
            return np.fromiter((r[0] for r in self.db.execute("SELECT id FROM chunks")), dtype=np.int64)

    def chunk_rows(self, chunk_ids: Sequence[int]) -> list[tuple[int, str, str, str]]:
        """(chunk id, embed key, article title, text) of these passages."""
        rows = []
        with self.lock:
            for i in range(0, len(chunk_ids), 500):
                batch = list(chunk_ids[i : i + 500])
                rows += self.db.execute(
                    "SELECT c.id, c.embed_key, a.title, c.text FROM chunks c "
                    "CROSS JOIN articles a ON a.id = c.article_id "
                    f"WHERE c.id IN ({','.join('?' * len(batch))}) ORDER BY c.id",
                    batch,
                ).fetchall()
        return rows
