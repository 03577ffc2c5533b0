"""Full-text search in SQLite: FTS5's tokenizer and query words, and BM25 over the passages."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator

import numpy as np
from sqlite_utils import Database

from ..words import FUNCTION_WORDS, MONTH_NAMES
from .records import Corpus, Filters

TOKENIZE = "porter unicode61 remove_diacritics 2"  # chunks_fts's tokenizer (migration m001)


BM25_WEIGHTS = {"title": 2.0, "source": 1.5, "published": 1.0, "text": 1.0}  # chunks_fts's columns


_WORD = re.compile(r"\w+", re.UNICODE)


STOPWORDS = FUNCTION_WORDS


def query_words(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The question's words that BM25 searches for, each once.

    Stopwords are left out unless the question has no other word."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1 or w.isdigit()]
    content = [w for w in words if w not in stopwords] or words
    return list(dict.fromkeys(content))


def fts_query(text: str, stopwords: frozenset[str] = STOPWORDS) -> str:
    """An FTS5 query that ORs the question's words, each quoted, so user text can never be FTS syntax."""
    return " OR ".join(f'"{w}"' for w in query_words(text, stopwords))


def varints(blob: bytes) -> list[int]:
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


class Tokenizer:
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


def date_words(published: str | None) -> str:
    """'2023-10-04' -> '2023-10-04 October 2023' so questions naming a month or year match lexically."""
    if not published:
        return ""
    year, month = published[:4], published[5:7]
    name = MONTH_NAMES[int(month) - 1] if month.isdigit() and 1 <= int(month) <= 12 else ""
    return f"{published} {name} {year}".strip()


class FullText:
    """FTS5 over passages: BM25 ranking (routed to the impact index where it covers), counts, and the
    impact index's source corpus."""

    db: Database
    lock: threading.RLock

    def _index_passage(
        self, chunk_id: int, title: str, source: str | None, published: str | None, text: str
    ) -> None:
        """Add a passage to the full-text index (in the transaction that adds it)."""
        self.db.execute(
            "INSERT INTO chunks_fts (rowid, title, source, published, text) VALUES (?, ?, ?, ?, ?)",
            [chunk_id, title, source or "", date_words(published), text],
        )

    def _unindex_passages(self, chunk_ids: list[int]) -> None:
        self.db.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in chunk_ids])

    def lexical(self, query: str, limit: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        """(chunk id, score) by BM25 over passages and their article's title, outlet and date.

        Passages covered by the impact index are ranked there; FTS5 ranks the newer ones (or all)."""
        words = query_words(query)
        if not words:
            return []
        impacts = self.impacts
        if impacts is not None:
            hidden = self.hidden_chunks(filters.viewer) if filters.viewer is not None else None
            head = impacts.search(
                self._tokens(words), limit, filters.since, filters.until, filters.sources, excluded=hidden
            )
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
        if not filters.active and filters.viewer is None:
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

    def lexical_corpus(self, batch: int = 10_000) -> Corpus:
        """Everything an impact index is built from, read as one snapshot on a connection of its own
        (searches and writes go on meanwhile): passages with their lengths, dates and outlets, and
        FTS5's postings (term, passage, column weight) in term order, function words left out."""
        conn = sqlite3.connect(self.path, check_same_thread=False) if self.path != ":memory:" else None
        rows = (
            "SELECT c.id, d.sz, coalesce(a.published, ''), a.source FROM chunks c "
            "JOIN chunks_fts_docsize d ON d.id = c.id JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        )
        seq = "SELECT coalesce(max(seq), 0) FROM changes"
        return fts_corpus(conn or self.db.conn, conn, rows, seq, self.stems(STOPWORDS), self.lock, batch)

    def stems(self, words: Iterable[str]) -> frozenset[str]:
        """The index terms FTS5 makes of these words."""
        return frozenset(term for terms in self._tokens.each(list(words)) for term in terms)


def fts_corpus(
    db: sqlite3.Connection,
    owned: sqlite3.Connection | None,
    rows_sql: str,
    seq_sql: str,
    skipped: frozenset[str],
    lock: threading.RLock | None = None,
    batch: int = 10_000,
) -> Corpus:
    """An impact index's source read from an SQLite database holding `chunks_fts`, in one snapshot:
    `rows_sql` gives (chunk id, docsize record, published, outlet) by id, `seq_sql` the change log's
    position the snapshot reflects. `owned` (the same connection, opened for this) is closed after."""
    lock = lock if lock is not None and owned is None else threading.RLock()
    with lock:
        db.execute("BEGIN")
        seq = db.execute(seq_sql).fetchone()[0]
        rows = db.execute(rows_sql).fetchall()
    names = sorted({r[3] for r in rows if r[3]})  # as written: filters compare them lower-cased
    code = {name: i for i, name in enumerate(names)}
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
            if owned is not None:
                owned.close()

    return Corpus(
        chunk_ids=np.array([r[0] for r in rows], dtype=np.int64),
        lengths=np.array([sum(varints(r[1])) for r in rows], dtype=np.float64),
        published=np.array([(r[2] or "")[:10] for r in rows], dtype="S10"),
        sources=np.array([code.get(r[3], -1) for r in rows], dtype=np.int32),
        source_names=names,
        postings=postings(),
        skipped=skipped,
        seq=int(seq),
    )
