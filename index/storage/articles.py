"""The articles table: adding an article with its passages in one transaction, removing, reading."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from sqlite_utils import Database

from ..models import Article, Chunk
from ..text import sentence_spans
from .records import ARTICLE_COLUMNS, Conflict, Filters, NewChunk, article_row, viewer_clause
from .select import select_in
from .spans import encode_spans


class Articles:
    """Articles and their passages as written at ingest, removed, promoted; near-duplicate lookups."""

    db: Database
    lock: threading.RLock

    def find_by_url(self, canonical_url: str) -> tuple[str, str] | None:
        """(article id, content hash) of the stored article at this URL, if any."""
        with self.lock:
            row = self.db.execute(
                "SELECT id, content_hash FROM articles WHERE canonical_url = ? LIMIT 1", [canonical_url]
            ).fetchone()
        return (row[0], row[1]) if row else None

    def origin_of(self, article_id: str) -> str | None:
        """Where a stored article was read from (a path, a URL, "feed-url#3")."""
        with self.lock:
            row = self.db.execute("SELECT origin FROM articles WHERE id = ?", [article_id]).fetchone()
        return row[0] if row else None

    def observe(self, canonical_url: str | None, content_hash: str) -> tuple:
        """The stored articles an ingest decision rests on: (id, hash) at this URL, id with this text."""
        with self.lock:
            at_url = self.find_by_url(canonical_url) if canonical_url else None
            return at_url, self.find_by_hash(content_hash)

    def find_by_hash(self, content_hash: str) -> str | None:
        with self.lock:
            row = self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? LIMIT 1", [content_hash]
            ).fetchone()
        return row[0] if row else None

    def add_article(
        self,
        article: Article,
        *,
        canonical_url: str | None,
        content_hash: str,
        origin: str,
        chunks: Sequence[NewChunk],
        vectors: dict[str, np.ndarray],
        minhash: tuple[bytes, list[str]] | None,
        replaces: str | None = None,
        observed: tuple | None = None,
        claim: tuple[str, str] | None = None,
    ) -> tuple[list[int], list[int]]:
        """Store an article, its passages, embeddings and lexical rows in one transaction, replacing
        the article `replaces` (a previous version) in the same transaction.

        `observed` is what `observe` returned when the write was decided on: if another writer
        changed it since, nothing is written and `Conflict` is raised (decide again, then write).
        `claim` (scope, via) is recorded on the article and its story (a new version keeps the
        previous version's claims). Returns (new chunk ids, removed chunk ids)."""
        with self.write():
            if observed is not None and self.observe(canonical_url, content_hash) != observed:
                raise Conflict(f"article {article.id} was written meanwhile by another writer")
            self._sources = None
            kept = self._claims_rows(replaces) if replaces else []
            removed = self.delete_article(replaces) if replaces else []
            if self.db.execute("SELECT 1 FROM articles WHERE id = ?", [article.id]).fetchone():
                raise Conflict(f"article {article.id} was stored meanwhile by another writer")
            self.db["articles"].insert(
                {
                    "id": article.id,
                    "title": article.title,
                    "title_derived": int(article.title_derived),
                    "source": article.source,
                    "url": article.url,
                    "canonical_url": canonical_url,
                    "published": article.published,
                    "author": article.author,
                    "body": article.body,
                    "content_hash": content_hash,
                    "origin": origin,
                    "ingested_at": article.ingested_at,
                    "duplicate_of": article.duplicate_of,
                }
            )
            self.put_vectors(vectors)
            ids = self._insert_chunks(article, chunks)
            if minhash is not None:
                signature, bands = minhash
                self.db["minhashes"].insert({"article_id": article.id, "signature": signature})
                self.db["minhash_bands"].insert_all(
                    ({"band": band, "article_id": article.id} for band in bands), ignore=True
                )
            self._put_claims(article.id, kept)
            if claim is not None:
                self._insert_claims(article.id, article.duplicate_of, *claim)
            self.set_meta("updated_at", article.ingested_at)
        return ids, removed

    def replace_chunks(
        self, article: Article, chunks: Sequence[NewChunk], vectors: dict[str, np.ndarray]
    ) -> list[int]:
        """Swap an article's passages for new ones (after a change of chunking) in one transaction."""
        with self.write():
            self._delete_chunks(article.id)
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )
            return self._insert_chunks(article, chunks)

    def _insert_chunks(self, article: Article, chunks: Sequence[NewChunk]) -> list[int]:
        ids = []
        for chunk in chunks:
            cursor = self.db.execute(
                'INSERT INTO chunks (article_id, position, start, "end", text, embed_key, sentences) '
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    article.id,
                    chunk.position,
                    chunk.start,
                    chunk.end,
                    chunk.text,
                    chunk.embed_key,
                    encode_spans(sentence_spans(chunk.text)),
                ],
            )
            ids.append(cursor.lastrowid)
            self._index_passage(
                cursor.lastrowid, article.title, article.source, article.published, chunk.text
            )
        return ids

    def _delete_chunks(self, article_id: str) -> list[int]:
        chunk_ids = [
            r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", [article_id])
        ]
        self._unindex_passages(chunk_ids)
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", [article_id])
        if self.impacts is not None:
            self.impacts.discard(chunk_ids)
        return chunk_ids

    def remove_story_article(self, article_id: str) -> tuple[list[int], Article | None]:
        """Remove an article; if other outlets' copies of its story exist, the earliest becomes the
        story's main article (it still needs passages: see `articles_without_chunks`). One transaction.

        Returns (removed chunk ids, promoted copy or None)."""
        with self.write():
            copies = self.copies_of(article_id)
            claims = self._claims_rows(article_id)  # the story's: they go with it to its new main article
            removed = self.delete_article(article_id)
            if not copies:
                return removed, None
            heir = copies[0]
            self._put_claims(heir.id, claims)
            self.db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", [heir.id])
            self.db.execute(
                "UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", [heir.id, article_id]
            )
        return removed, self.article(heir.id)

    def articles_without_chunks(self) -> list[Article]:
        """Main articles that have no passages yet (a promoted copy, or an interrupted rechunk)."""
        with self.lock:
            rows = self.db.execute(
                f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE duplicate_of IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.article_id = a.id)"
            ).fetchall()
        return [article_row(r) for r in rows]

    def delete_article(self, article_id: str) -> list[int]:
        """Remove an article and everything derived from it; returns the removed chunk ids.

        Other outlets' copies of the story (rows whose duplicate_of is this id) are left alone: a new
        version keeps the id, and `Engine.remove` re-ingests them when the story's main article goes.
        """
        with self.write():
            self._sources = None
            chunk_ids = self._delete_chunks(article_id)
            self.db.execute("DELETE FROM minhash_bands WHERE article_id = ?", [article_id])
            self.db.execute("DELETE FROM minhashes WHERE article_id = ?", [article_id])
            self.db.execute("DELETE FROM article_claims WHERE article_id = ?", [article_id])
            self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])
        return chunk_ids

    def article(self, article_id: str) -> Article | None:
        with self.lock:
            row = self.db.execute(
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?", [article_id]
            ).fetchone()
        return article_row(row) if row else None

    def articles(self, filters: Filters = Filters(), limit: int | None = None) -> list[Article]:
        where, params = filters.sql("articles")
        sql = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {where} ORDER BY published DESC NULLS LAST, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            return [article_row(r) for r in self.db.execute(sql, params)]

    def copies_of(self, article_id: str, viewer: str | None = None) -> list[Article]:
        """The near-duplicate copies recorded for a story's main article (those `viewer` may see: a
        copy another server brought is not shown, nor its outlet named)."""
        where, params = viewer_clause("articles", viewer)
        with self.lock:
            rows = self.db.execute(
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE duplicate_of = ? AND {where} "
                "ORDER BY ingested_at, id",
                [article_id, *params],
            ).fetchall()
        return [article_row(r) for r in rows]

    def outlets_of(self, article_id: str, viewer: str | None = None) -> list[str]:
        """Other outlets that published the same story (recorded near-duplicates `viewer` may see)."""
        where, params = viewer_clause("articles", viewer)
        with self.lock:
            rows = self.db.execute(
                "SELECT DISTINCT source FROM articles WHERE duplicate_of = ? AND source IS NOT NULL "
                f"AND {where}",
                [article_id, *params],
            ).fetchall()
        return [r[0] for r in rows]

    def chunks_of(self, article_id: str) -> list[Chunk]:
        with self.lock:
            rows = self.db.execute(
                'SELECT id, article_id, position, start, "end", text FROM chunks WHERE article_id = ? '
                "ORDER BY position",
                [article_id],
            ).fetchall()
        return [Chunk(*r) for r in rows]

    def minhash_candidates(self, bands: Sequence[str]) -> dict[str, bytes]:
        sql = (
            "SELECT DISTINCT m.article_id, m.signature FROM minhash_bands b "
            "JOIN minhashes m ON m.article_id = b.article_id WHERE b.band IN ({marks})"
        )
        return dict(select_in(self.db, self.lock, sql, list(bands)))
