"""The SQLite store: the source of truth for articles, passages, embeddings and the lexical index.

All SQL lives here. Methods are thread-safe (one connection guarded by a lock) so the bot can call
them from worker threads while the event loop stays free.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from .folder_lock import folder_lock
from .lexical import Corpus, ImpactIndex
from .migrations import decode_spans, encode_spans, migrations
from .models import Article, Chunk
from .sentence_vectors import pack, unpack
from .text import sentence_spans

TOKENIZE = "porter unicode61 remove_diacritics 2"  # chunks_fts's tokenizer (migration m001)
BM25_WEIGHTS = {"title": 2.0, "source": 1.5, "published": 1.0, "text": 1.0}  # chunks_fts's columns


class Conflict(RuntimeError):
    """Another writer changed what an article write was decided on (its URL's or text's article)."""


@dataclass(frozen=True)
class Changes:
    """A page of the change log after a position: the passages touched, as they stand now."""

    seq: int  # the page's last position (the position asked for when the page is empty)
    removed: np.ndarray  # touched passages that no longer exist
    added: list[tuple[int, str]]  # (chunk id, embed key) of those that do
    more: bool = False  # the log goes on after this page


@dataclass(frozen=True)
class NewChunk:
    position: int
    start: int
    end: int
    text: str
    embed_key: str


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive ISO dates) and outlet names; None means no restriction."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] | None = None

    def sql(self, alias: str = "a") -> tuple[str, list]:
        clauses, params = [f"{alias}.duplicate_of IS NULL"], []
        if self.since:
            clauses.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            clauses.append(f"{alias}.published <= ?")
            params.append(self.until)
        if self.sources:
            marks = ",".join("?" * len(self.sources))
            clauses.append(f"lower({alias}.source) IN ({marks})")
            params.extend(s.lower() for s in self.sources)
        return " AND ".join(clauses), params

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources)


_ARTICLE_COLUMNS = "id, title, title_derived, source, url, published, author, body, ingested_at, duplicate_of"


def _article(row: Sequence) -> Article:
    return Article(
        id=row[0],
        title=row[1],
        title_derived=bool(row[2]),
        source=row[3],
        url=row[4],
        published=row[5],
        author=row[6],
        body=row[7],
        ingested_at=row[8],
        duplicate_of=row[9],
    )


class StoreUnusable(ValueError):
    """news.db cannot be used: the data folder is a file, or news.db is not newsbot's SQLite database."""


def _connect(path: Path | str, busy_timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode; StoreUnusable (nothing written) if the file is not a usable database."""
    if str(path) != ":memory:":
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreUnusable(f"the data folder {folder} is a file, not a folder") from None
        except OSError as error:
            raise StoreUnusable(f"cannot create the data folder {folder} ({error.strerror})") from None
    try:  # `timeout` is SQLite's busy timeout: a write waits this long for another process's write.
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout)
    except sqlite3.DatabaseError as error:
        raise StoreUnusable(f"cannot open {path} as an SQLite database ({error})") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "_sqlite_migrations" not in tables:
            raise StoreUnusable(_not_ours(path, tables))
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        conn.close()
        raise StoreUnusable(f"cannot open {path} as an SQLite database ({error})") from None
    except StoreUnusable:
        conn.close()
        raise
    return conn


def _check_ours(db: Database, path: str) -> None:
    """Refuse another program's database (migrations would add newsbot's tables to it)."""
    tables = set(db.table_names())
    if tables and not migrations.applied(db):
        raise StoreUnusable(_not_ours(path, tables))


def _not_ours(path: Path | str, tables: set[str]) -> str:
    shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
    return f"{path} is another program's SQLite database (tables: {shown}), not newsbot's: use another folder"


class Store:
    def __init__(self, path: Path | str, *, busy_timeout: float = 60.0):
        conn = _connect(path, busy_timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MB of pages (SQLite's default is 2 MB)
        self.path = str(path)
        self.db = Database(conn)
        self.lock = threading.RLock()
        self._writing = 0  # depth of nested `write()` blocks on this connection
        self._sources: list[dict] | None = None  # cache of sources(), dropped on every article write
        self._tokens = _Tokenizer()
        # The lexical accelerator for the passages it covers (index/lexical.py); FTS5 ranks the rest.
        self.impacts: ImpactIndex | None = None
        if migrations.pending(self.db):
            if self.path == ":memory:":
                migrations.apply(self.db)
            else:  # two processes opening a new folder at once must not both create the tables
                with folder_lock(Path(path).parent):
                    _check_ours(self.db, self.path)
                    migrations.apply(self.db)

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (nested blocks join the outer one). BEGIN IMMEDIATE takes SQLite's
        write lock up front, waiting up to the busy timeout for other processes' writes: a deferred
        transaction that read first could not wait for it and would fail with "database is locked"."""
        with self.lock:
            if self._writing or self.db.conn.in_transaction:  # (a caller's own transaction, say)
                self._writing += 1
                try:
                    yield
                finally:
                    self._writing -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._writing = 1
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")
            finally:
                self._writing = 0

    @property
    def _newest_chunk(self) -> int:
        """The newest passage's id, read each time (one B-tree step), so passages another process
        added since are seen too."""
        with self.lock:
            return self.db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # -- articles -------------------------------------------------------------------------------

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
    ) -> tuple[list[int], list[int]]:
        """Store an article, its passages, embeddings and lexical rows in one transaction, replacing
        the article `replaces` (a previous version) in the same transaction.

        `observed` is what `observe` returned when the write was decided on: if another writer
        changed it since, nothing is written and `Conflict` is raised (decide again, then write).
        Returns (new chunk ids, removed chunk ids)."""
        with self.write():
            if observed is not None and self.observe(canonical_url, content_hash) != observed:
                raise Conflict(f"article {article.id} was written meanwhile by another writer")
            self._sources = None
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
                "INSERT INTO chunks (article_id, position, start, end, text, embed_key, sentences) "
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
            self.db.execute(
                "INSERT INTO chunks_fts (rowid, title, source, published, text) VALUES (?, ?, ?, ?, ?)",
                [
                    cursor.lastrowid,
                    article.title,
                    article.source or "",
                    _date_words(article.published),
                    chunk.text,
                ],
            )
        return ids

    def _delete_chunks(self, article_id: str) -> list[int]:
        chunk_ids = [
            r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", [article_id])
        ]
        self.db.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in chunk_ids])
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
            removed = self.delete_article(article_id)
            if not copies:
                return removed, None
            heir = copies[0]
            self.db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", [heir.id])
            self.db.execute(
                "UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", [heir.id, article_id]
            )
        return removed, self.article(heir.id)

    def articles_without_chunks(self) -> list[Article]:
        """Main articles that have no passages yet (a promoted copy, or an interrupted rechunk)."""
        with self.lock:
            rows = self.db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a WHERE duplicate_of IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.article_id = a.id)"
            ).fetchall()
        return [_article(r) for r in rows]

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
            self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])
        return chunk_ids

    def article(self, article_id: str) -> Article | None:
        with self.lock:
            row = self.db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", [article_id]
            ).fetchone()
        return _article(row) if row else None

    def articles(self, filters: Filters = Filters(), limit: int | None = None) -> list[Article]:
        where, params = filters.sql("articles")
        sql = f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE {where} ORDER BY published DESC NULLS LAST, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            return [_article(r) for r in self.db.execute(sql, params)]

    def copies_of(self, article_id: str) -> list[Article]:
        """The near-duplicate copies recorded for a story's main article."""
        with self.lock:
            rows = self.db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE duplicate_of = ? ORDER BY ingested_at, id",
                [article_id],
            ).fetchall()
        return [_article(r) for r in rows]

    def outlets_of(self, article_id: str) -> list[str]:
        """Other outlets that published the same story (recorded near-duplicates)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT DISTINCT source FROM articles WHERE duplicate_of = ? AND source IS NOT NULL",
                [article_id],
            ).fetchall()
        return [r[0] for r in rows]

    def chunks_of(self, article_id: str) -> list[Chunk]:
        with self.lock:
            rows = self.db.execute(
                "SELECT id, article_id, position, start, end, text FROM chunks WHERE article_id = ? "
                "ORDER BY position",
                [article_id],
            ).fetchall()
        return [Chunk(*r) for r in rows]

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, tuple]:
        """chunk id -> (chunk id, article id, start, end, text, title, source, url, published): a hit,
        for the passages that exist in articles that are not copies of another."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        sql = (
            "SELECT c.id, c.article_id, c.start, c.end, c.text, a.title, a.source, a.url, a.published "
            # CROSS JOIN keeps SQLite from scanning articles first: look the chunks up by id, then
            # their articles in the citation index, which holds all this reads (migration m007).
            f"FROM chunks c CROSS JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({marks}) AND a.duplicate_of IS NULL"
        )
        with self.lock:
            return {r[0]: r for r in self.db.execute(sql, list(chunk_ids))}

    def passage_texts(self, chunk_ids: Sequence[int]) -> dict[int, tuple]:
        """chunk id -> (chunk id, article id, text, sentences) of the passages that exist: what search
        ranks and picks by. Only the picked ones are then read with their article (`passages`): every
        passage read with its article costs another page read (its entry in the citation index), from
        disk when the store is not in the page cache."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        sql = f"SELECT id, article_id, text, sentences FROM chunks WHERE id IN ({marks})"
        with self.lock:
            return {r[0]: r for r in self.db.execute(sql, list(chunk_ids))}

    def passage_facts(self, chunk_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """chunk id -> (outlet, published) of the passages that exist.

        Search boosts hundreds of candidates by these alone: they come from the impact index's arrays
        where it covers the passage (a text-keyed article lookup per passage costs more than the rest
        of the query), from SQLite for the others."""
        if not chunk_ids:
            return {}
        known = self.impacts.describe(list(chunk_ids)) if self.impacts is not None else {}
        missing = [cid for cid in chunk_ids if cid not in known]
        if missing:
            marks = ",".join("?" * len(missing))
            sql = (
                "SELECT c.id, a.source, a.published FROM chunks c CROSS JOIN articles a "
                f"ON a.id = c.article_id WHERE c.id IN ({marks})"
            )
            with self.lock:
                known.update((r[0], (r[1], r[2])) for r in self.db.execute(sql, missing))
        return known

    def lexical(self, query: str, limit: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        """(chunk id, score) by BM25 over passages and their article's title, outlet and date.

        Passages covered by the impact index are ranked there; FTS5 ranks the newer ones (or all)."""
        words = query_words(query)
        if not words:
            return []
        impacts = self.impacts
        if impacts is not None:
            head = impacts.search(self._tokens(words), limit, filters.since, filters.until, filters.sources)
            if head is not None:
                if self._newest_chunk <= impacts.max_id:
                    return head
                tail = self._fts(words, limit, filters, after=impacts.max_id)
                return sorted(head + tail, key=lambda hit: (-hit[1], hit[0]))[:limit]
        return self._fts(words, limit, filters)

    def _fts(self, words: list[str], limit: int, filters: Filters, after: int = 0) -> list[tuple[int, float]]:
        match = " OR ".join(f'"{w}"' for w in words)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS.values())
        rank = f"bm25(chunks_fts, {weights})"
        if not filters.active:
            # Only main articles have passages, so no join is needed: FTS5 ranks and limits alone.
            sql = (
                f"SELECT rowid, -{rank} FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid > ? "
                f"ORDER BY {rank} LIMIT ?"
            )
            with self.lock:
                return [(r[0], r[1]) for r in self.db.execute(sql, [match, after, limit])]
        where, params = filters.sql("a")
        join = "CROSS JOIN" if after else "JOIN"
        sql = (
            # after the impact index's passages: CROSS JOIN, so FTS5 finds them first (a rowid range)
            f"SELECT f.rowid, -{rank} AS score FROM chunks_fts f "
            f"{join} chunks c ON c.id = f.rowid {join} articles a ON a.id = c.article_id "
            f"WHERE chunks_fts MATCH ? AND f.rowid > ? AND {where} ORDER BY {rank} LIMIT ?"
        )
        with self.lock:
            return [(r[0], r[1]) for r in self.db.execute(sql, [match, after, *params, limit])]

    def allowed_chunk_ids(self, filters: Filters) -> np.ndarray:
        impacts, after = self.impacts, 0
        head = np.zeros(0, dtype=np.int64)
        if impacts is not None:
            head, after = impacts.allowed(filters.since, filters.until, filters.sources), impacts.max_id
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
        keep = set(ids[passing].tolist())
        ids = ids[~covered]  # newer than the impact index: ask SQLite
        if len(ids):
            where, params = filters.sql("a")
            marks = ",".join("?" * len(ids))
            sql = (
                "SELECT c.id FROM chunks c CROSS JOIN articles a ON a.id = c.article_id "
                f"WHERE c.id IN ({marks}) AND {where}"
            )
            with self.lock:
                keep.update(r[0] for r in self.db.execute(sql, [*ids.tolist(), *params]))
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

    def document_frequency(self, text: str) -> int:
        """How many passages contain any of the words of `text` (as BM25 would match them)."""
        words = query_words(text)
        if not words:
            return 0
        impacts = self.impacts
        if impacts is not None:
            head = impacts.frequency(self._tokens(words))
            if head is not None:
                if self._newest_chunk <= impacts.max_id:
                    return head
                return head + self._fts_count(words, after=impacts.max_id)
        return self._fts_count(words)

    def _fts_count(self, words: list[str], after: int = 0) -> int:
        match = " OR ".join(f'"{w}"' for w in words)
        with self.lock:
            sql = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid > ?"
            return self.db.execute(sql, [match, after]).fetchone()[0]

    def passages_after(self, chunk_id: int) -> int:
        """How many passages are newer than `chunk_id` (those the impact index does not cover)."""
        with self.lock:
            return self.db.execute("SELECT count(*) FROM chunks WHERE id > ?", [chunk_id]).fetchone()[0]

    def lexical_corpus(self, batch: int = 10_000) -> Corpus:
        """Everything an impact index is built from, read as one snapshot on a connection of its own
        (searches and writes go on meanwhile): passages with their lengths, dates and outlets, and
        FTS5's postings (term, passage, column weight) in term order, function words left out."""
        conn = sqlite3.connect(self.path, check_same_thread=False) if self.path != ":memory:" else None
        db = conn or self.db.conn
        lock = threading.RLock() if conn else self.lock
        with lock:
            db.execute("BEGIN")
            seq = db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            rows = db.execute(
                "SELECT c.id, d.sz, coalesce(a.published, ''), a.source FROM chunks c "
                "JOIN chunks_fts_docsize d ON d.id = c.id JOIN articles a ON a.id = c.article_id "
                "ORDER BY c.id"
            ).fetchall()
        names = sorted({r[3] for r in rows if r[3]})  # as written: filters compare them lower-cased
        code = {name: i for i, name in enumerate(names)}
        skipped = self.stems(STOPWORDS)
        cases = " ".join(f"WHEN '{col}' THEN {w}" for col, w in BM25_WEIGHTS.items())

        def postings() -> Iterator[tuple[list[str], np.ndarray, np.ndarray]]:
            try:
                with lock:
                    db.execute(
                        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances "
                        "USING fts5vocab(main, chunks_fts, 'instance')"
                    )
                    cursor = db.execute(f"SELECT term, doc, CASE col {cases} END FROM temp.fts_instances")
                    while part := cursor.fetchmany(batch):
                        part = [r for r in part if r[0] not in skipped]
                        if part:
                            terms, docs, weights = zip(*part, strict=True)
                            yield list(terms), np.array(docs, np.int64), np.array(weights, np.float32)
            finally:
                with lock:
                    db.execute("COMMIT")
                if conn is not None:
                    conn.close()

        return Corpus(
            chunk_ids=np.array([r[0] for r in rows], dtype=np.int64),
            lengths=np.array([sum(_varints(r[1])) for r in rows], dtype=np.float64),
            published=np.array([r[2][:10] for r in rows], dtype="S10"),
            sources=np.array([code.get(r[3], -1) for r in rows], dtype=np.int32),
            source_names=names,
            postings=postings(),
            skipped=skipped,
            seq=seq,
        )

    def stems(self, words: Iterable[str]) -> frozenset[str]:
        """The index terms FTS5 makes of these words."""
        return frozenset(term for terms in self._tokens.each(list(words)) for term in terms)

    # -- embeddings -----------------------------------------------------------------------------

    def vectors(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self.lock:
            for i in range(0, len(keys), 500):
                batch = keys[i : i + 500]
                marks = ",".join("?" * len(batch))
                for key, blob in self.db.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", batch
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def sample_vectors(self, count: int, seed: int = 0) -> np.ndarray:
        """The stored embeddings of `count` passages picked at random (all of them if fewer)."""
        ids = self.chunk_ids()
        if count < len(ids):
            ids = np.sort(np.random.default_rng(seed).choice(ids, count, replace=False))
        rows: list[np.ndarray] = []
        for start in range(0, len(ids), 500):  # the lock is held one batch at a time: searches go on
            batch = ids[start : start + 500].tolist()
            marks = ",".join("?" * len(batch))
            sql = (
                "SELECT e.vector FROM chunks c CROSS JOIN embeddings e ON e.key = c.embed_key "
                f"WHERE c.id IN ({marks})"
            )
            with self.lock:
                rows.extend(np.frombuffer(blob, dtype=np.float32) for (blob,) in self.db.execute(sql, batch))
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def put_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self.lock:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO embeddings (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    def chunk_embed_keys(self, page: int = 10_000) -> Iterator[list[tuple[int, str, str, str]]]:
        """(chunk id, embed key, article title, chunk text) of every indexed passage, in pages by id
        (a million passages never sit in memory at once; the lock is held one page at a time)."""
        after = 0
        while True:
            with self.lock:
                rows = self.db.execute(
                    "SELECT c.id, c.embed_key, a.title, c.text FROM chunks c "
                    "CROSS JOIN articles a ON a.id = c.article_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
                    [after, page],
                ).fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    # -- the change log (migration m008) ---------------------------------------------------------

    def data_version(self) -> int:
        """SQLite's count of commits by other connections: unchanged means nothing to follow."""
        with self.lock:
            return self.db.execute("PRAGMA data_version").fetchone()[0]

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
                    marks = ",".join("?" * len(batch))
                    sql = f"SELECT id, embed_key FROM chunks WHERE id IN ({marks}) ORDER BY id"
                    added += self.db.execute(sql, batch).fetchall()
            finally:
                if own:
                    self.db.execute("COMMIT")
        present = {chunk_id for chunk_id, _ in added}
        removed = np.array([i for i in touched if i not in present], dtype=np.int64)
        return Changes(logged[-1][0] if logged else seq, removed, added, more=len(logged) == limit)

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

    def prune_changes(self, before: int) -> None:
        """After a reindex that read SQLite at position `before`: forget the log up to the previous
        reindex's position. A process still behind that (idle since before two reindexes) compares
        its index with SQLite in full instead of following the log."""
        with self.write():
            through = int(self.meta("reindex_seq") or 0)
            self.db.execute("DELETE FROM changes WHERE seq <= ?", [through])
            self.set_meta("changes_pruned", str(through))
            self.set_meta("reindex_seq", str(before))

    def forget_cached(self) -> None:
        """Drop what is cached from SQLite (another process wrote)."""
        with self.lock:
            self._sources = None

    def prune_vectors(self) -> int:
        """Drop embeddings no passage uses (e.g. of a previous model)."""
        with self.write():
            cursor = self.db.execute("DELETE FROM embeddings WHERE key NOT IN (SELECT embed_key FROM chunks)")
            self.db.execute("DELETE FROM sentence_vectors WHERE key NOT IN (SELECT embed_key FROM chunks)")
        return cursor.rowcount

    def put_sentence_vectors(self, rows: dict[str, tuple[list[tuple[int, int]], np.ndarray]]) -> None:
        """key -> (sentence spans in the passage, their vectors), replacing older ones."""
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO sentence_vectors (key, spans, vectors) VALUES (?, ?, ?)",
                [(key, encode_spans(spans), pack(vectors)) for key, (spans, vectors) in rows.items()],
            )

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, dict[tuple[int, int], np.ndarray]]:
        """chunk id -> {sentence span in the passage: its pooled vector} for the passages that have them
        (those embedded by a backend that pools them; an empty span list has none)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        sql = (
            "SELECT c.id, s.spans, s.vectors FROM chunks c CROSS JOIN sentence_vectors s "
            f"ON s.key = c.embed_key WHERE c.id IN ({marks})"
        )
        with self.lock:
            rows = self.db.execute(sql, list(chunk_ids)).fetchall()
        found = {}
        for chunk_id, spans, blob in rows:
            spans = decode_spans(spans) or []
            vectors = unpack(blob, len(spans)) if spans else []
            found[chunk_id] = {span: v for span, v in zip(spans, vectors, strict=True) if v.any()}
        return found

    def chunk_ids(self) -> np.ndarray:
        with self.lock:
            return np.fromiter((r[0] for r in self.db.execute("SELECT id FROM chunks")), dtype=np.int64)

    # -- near duplicates ------------------------------------------------------------------------

    def minhash_candidates(self, bands: Sequence[str]) -> dict[str, bytes]:
        if not bands:
            return {}
        marks = ",".join("?" * len(bands))
        sql = (
            "SELECT DISTINCT m.article_id, m.signature FROM minhash_bands b "
            f"JOIN minhashes m ON m.article_id = b.article_id WHERE b.band IN ({marks})"
        )
        with self.lock:
            return dict(self.db.execute(sql, list(bands)).fetchall())

    # -- meta, stats ----------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def counts(self) -> dict[str, int]:
        with self.lock:
            one = self.db.execute
            return {
                "articles": one("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0],
                "duplicates": one("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[
                    0
                ],
                "chunks": one("SELECT count(*) FROM chunks").fetchone()[0],
            }

    def sources(self) -> list[dict]:
        """Outlets with their article counts and newest article date, largest first.

        Every search asks for the outlet names (to spot them in the question), so the answer is kept
        until the next write instead of grouping all articles per query."""
        with self.lock:
            if self._sources is None:
                rows = self.db.execute(
                    "SELECT coalesce(source, 'unknown'), count(*), max(published) FROM articles "
                    "WHERE duplicate_of IS NULL GROUP BY 1 ORDER BY 2 DESC, 1"
                ).fetchall()
                self._sources = [{"source": r[0], "articles": r[1], "newest": r[2]} for r in rows]
            return [dict(row) for row in self._sources]


_WORD = re.compile(r"\w+", re.UNICODE)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# Function words that carry no topic: BM25 gives them almost no weight anyway, but an OR over them
# matches nearly every passage, which makes FTS slow. Kept when a question has nothing else.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def query_words(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The question's words that BM25 searches for, each once.

    Stopwords are left out unless the question has no other word."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1 or w.isdigit()]
    content = [w for w in words if w not in stopwords] or words
    return list(dict.fromkeys(content))


def fts_query(text: str, stopwords: frozenset[str] = STOPWORDS) -> str:
    """An FTS5 query that ORs the question's words, each quoted, so user text can never be FTS syntax."""
    return " OR ".join(f'"{w}"' for w in query_words(text, stopwords))


def _varints(blob: bytes) -> list[int]:
    """SQLite varints (FTS5's docsize record: tokens per column)."""
    values, value, n = [], 0, 0
    for byte in blob:
        n += 1
        if n == 9:
            values.append((value << 8) | byte)
            value, n = 0, 0
        elif byte & 0x80:
            value = (value << 7) | (byte & 0x7F)
        else:
            values.append((value << 7) | byte)
            value, n = 0, 0
    return values


class _Tokenizer:
    """FTS5's own tokenizer (an in-memory FTS5 table), so question words become exactly the index's
    terms. Words are cached: news questions reuse them."""

    def __init__(self, cache: int = 50_000):
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.db.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize='{TOKENIZE}')")
        self.db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
        self.lock = threading.Lock()
        self.cache: dict[str, tuple[str, ...]] = {}
        self.limit = cache

    def __call__(self, words: list[str]) -> list[str]:
        """One term per word that yields one (a word FTS5 splits gives each part)."""
        return [term for terms in self.each(words) for term in terms]

    def each(self, words: list[str]) -> list[tuple[str, ...]]:
        with self.lock:
            missing = [w for w in dict.fromkeys(words) if w not in self.cache]
            if missing:
                self.db.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)", enumerate(missing, 1))
                found: dict[int, list[str]] = {}
                for doc, term in self.db.execute("SELECT doc, term FROM terms ORDER BY doc, offset"):
                    found.setdefault(doc, []).append(term)
                self.db.execute("DELETE FROM words")
                if len(self.cache) + len(missing) > self.limit:
                    self.cache.clear()
                for i, word in enumerate(missing, 1):
                    self.cache[word] = tuple(found.get(i, ()))
            return [self.cache[w] for w in words]


def _date_words(published: str | None) -> str:
    """'2023-10-04' -> '2023-10-04 October 2023' so questions naming a month or year match lexically."""
    if not published:
        return ""
    year, month = published[:4], published[5:7]
    name = _MONTHS[int(month) - 1] if month.isdigit() and 1 <= int(month) <= 12 else ""
    return f"{published} {name} {year}".strip()
