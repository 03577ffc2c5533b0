"""The store on PostgreSQL (NEWSBOT_DATABASE_URL=postgresql://...): the same Store, the same SQL.

Several processes on several machines share one database; each keeps its derived indexes local (the
vector index, the impact index and, here, the full-text index of the newest passages) and follows the
change log to keep them in step. What differs from SQLite beyond the statements' dialect
(index/storage/dialect.py):

- Writes serialise on one advisory lock (`WRITE_LOCK`), taken when a write transaction begins and
  again by the change-log trigger (migration m008): like SQLite's single writer, so change-log
  positions commit in order and the ingest's read-then-write decisions (`observe`) still hold.
- FTS5 has no PostgreSQL twin with the same BM25, so each process keeps an FTS5 copy of the passages
  in its data folder (`fulltext.db`), brought up to the change log before each full-text read: the
  same terms and scores on both backends, and the impact index is built from it.
- `data_version` is the change log's newest position (SQLite counts other connections' commits).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
from pathlib import Path

from . import pg_migrations
from .changes import ChangeWaiter
from .dialect import PgDatabase
from .fulltext import BM25_WEIGHTS, STOPWORDS, TOKENIZE, date_words, fts_corpus
from .pg_migrations import WRITE_LOCK
from .records import Corpus, Filters
from .select import select_in
from .store import Store, StoreUnusable

log = logging.getLogger(__name__)

CHANNEL = "newsbot_changes"  # NOTIFY channel of the change log, payload the schema
MIRROR_NAME = "fulltext.db"
_ROWS = (
    "SELECT c.id, a.title, a.source, a.published, c.text FROM chunks c "
    "CROSS JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})"
)


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in ("postgresql", "postgres")


class PgStore(Store):
    """`Store` on a PostgreSQL database; `data_dir` holds this process's full-text copy."""

    def __init__(self, url: str, data_dir: Path | str):
        try:
            self.db = PgDatabase(url)
        except Exception as error:  # psycopg.OperationalError: no server, no database, refused
            raise StoreUnusable(f"cannot connect to PostgreSQL ({_first_line(error)})") from None
        self.url = url
        self.path = str(Path(data_dir) / MIRROR_NAME)
        pg_migrations.apply(self.db.pg)
        self._setup()
        self.db.execute(  # which database this is: a data folder moved to another one starts over
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?)", [secrets.token_hex(8)]
        )
        self.mirror = Mirror(Path(self.path), self.meta("database_id") or "")

    def _begin_write(self) -> None:
        # READ COMMITTED: each statement after the lock sees every write committed before it.
        self.db.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        self.db.execute("SELECT pg_advisory_xact_lock(?)", [WRITE_LOCK])

    def prune_vectors(self) -> int:
        """As SQLite's, written as an anti-join: PostgreSQL runs `NOT IN (SELECT ...)` once per row when
        the passages' keys do not fit in `work_mem` (minutes at 100k passages)."""
        with self.write():
            cursor = self.db.execute(
                "DELETE FROM embeddings e WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.embed_key = e.key)"
            )
            self.db.execute(
                "DELETE FROM sentence_vectors s WHERE NOT EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.embed_key = s.key)"
            )
        return cursor.rowcount

    def data_version(self) -> int:
        return self.change_seq()

    def close(self) -> None:
        with self.lock:
            self.db.close()
            self.mirror.close()

    def change_waiter(self) -> ChangeWaiter:
        return NotifyWaiter(self.url)

    # -- the full-text index: a local FTS5 copy following the change log ---------------------------

    def _index_passage(self, chunk_id, title, source, published, text) -> None:
        return None  # (the copy reads it from the change log)

    def _unindex_passages(self, chunk_ids: list[int]) -> None:
        return None

    def _fts(self, words: list[str], limit: int, filters: Filters, after: int = 0) -> list[tuple[int, float]]:
        self.sync_fulltext()
        plain = not filters.active and filters.viewer is None
        want = limit if plain else limit * 4
        while True:
            ranked = self.mirror.rank(words, after, want)
            if plain:
                return ranked
            passing = self._passing([chunk_id for chunk_id, _ in ranked], filters)
            kept = [hit for hit in ranked if hit[0] in passing]
            if len(kept) >= limit or len(ranked) < want:
                return kept[:limit]
            want *= 4

    def _passing(self, chunk_ids: list[int], filters: Filters) -> set[int]:
        where, params = filters.sql("a")
        sql = (
            "SELECT c.id FROM chunks c CROSS JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({{marks}}) AND {where}"
        )
        found: set[int] = set()
        for i in range(0, len(chunk_ids), 500):
            found.update(r[0] for r in select_in(self.db, self.lock, sql, chunk_ids[i : i + 500], params))
        return found

    def _fts_count(self, words: list[str], after: int = 0) -> int:
        self.sync_fulltext()
        return self.mirror.count(words, after)

    def lexical_corpus(self, batch: int = 10_000) -> Corpus:
        self.sync_fulltext()
        conn = self.mirror.connect()
        rows = (
            "SELECT f.rowid, d.sz, p.published, p.source FROM chunks_fts f "
            "JOIN chunks_fts_docsize d ON d.id = f.rowid JOIN facts p ON p.id = f.rowid ORDER BY f.rowid"
        )
        seq = "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM state WHERE key = 'seq'), 0)"
        return fts_corpus(conn, conn, rows, seq, self.stems(STOPWORDS), batch=batch)

    def sync_fulltext(self) -> None:
        """Bring the full-text copy up to the change log (a no-op read of one position when current)."""
        newest = self.change_seq()
        if self.mirror.seen >= newest:
            return
        with self.mirror.lock, self.mirror.writing() as local:
            seq = self.mirror.position(local)
            while seq < newest:
                changes = self.changes_after(seq)
                if changes is None:  # the log was pruned past this copy: copy every passage again
                    seq = self._copy_all(local)
                    continue
                touched = changes.removed.tolist() + [chunk_id for chunk_id, _ in changes.added]
                self.mirror.remove(local, touched)
                self.mirror.add(local, select_in(self.db, self.lock, _ROWS, [i for i, _ in changes.added]))
                seq = changes.seq
                if not changes.more:
                    break
            self.mirror.set_position(local, seq)
        self.mirror.seen = seq

    def _copy_all(self, local: sqlite3.Connection) -> int:
        log.info("copying every passage into the full-text index %s", self.path)
        self.mirror.remove_all(local)
        with self.lock:
            seq = self.change_seq()  # (before the pages: what is added meanwhile is followed after)
        after = 0
        while rows := self._page_after(after):
            self.mirror.add(local, rows)
            after = rows[-1][0]
        return seq

    def _page_after(self, after: int, page: int = 5000) -> list[tuple]:
        sql = (
            "SELECT c.id, a.title, a.source, a.published, c.text FROM chunks c "
            "CROSS JOIN articles a ON a.id = c.article_id WHERE c.id > ? ORDER BY c.id LIMIT ?"
        )
        with self.lock:
            return self.db.execute(sql, [after, page]).fetchall()


class NotifyWaiter(ChangeWaiter):
    """LISTENs on a connection of its own: the change log's trigger NOTIFYs on each commit that
    added or removed passages (of any schema: the payload names it)."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.schema = self.conn.execute("SELECT current_schema()").fetchone()[0]
        self.conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        return any(n.payload == self.schema for n in self.conn.notifies(timeout=timeout, stop_after=1))

    def close(self) -> None:
        self.conn.close()


class Mirror:
    """An FTS5 copy of the passages in a local SQLite file, with the change-log position it reflects
    (processes sharing the data folder share it, serialised by SQLite's write lock)."""

    def __init__(self, path: Path, database: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self.seen = -1  # the position this process last brought it to
        self.db = self.connect()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # derived: a crash loses at most the last sync
            self.db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
                f"title, source, published, text, tokenize='{TOKENIZE}')"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS facts (id INTEGER PRIMARY KEY, published TEXT, source TEXT)"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)")
            with self.writing() as local:
                row = local.execute("SELECT value FROM state WHERE key = 'database'").fetchone()
                if row is None or row[0] != database:  # a copy of another database's passages
                    self.remove_all(local)
                    local.execute("DELETE FROM state")
                    local.execute("INSERT INTO state (key, value) VALUES ('database', ?)", [database])

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)

    def writing(self):
        return _Immediate(self.db)

    def position(self, local: sqlite3.Connection) -> int:
        row = local.execute("SELECT value FROM state WHERE key = 'seq'").fetchone()
        return int(row[0]) if row else 0

    def set_position(self, local: sqlite3.Connection, seq: int) -> None:
        local.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('seq', ?)", [str(seq)])

    def remove(self, local: sqlite3.Connection, chunk_ids: list[int]) -> None:
        local.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in chunk_ids])
        local.executemany("DELETE FROM facts WHERE id = ?", [(i,) for i in chunk_ids])

    def remove_all(self, local: sqlite3.Connection) -> None:
        local.execute("DELETE FROM chunks_fts")
        local.execute("DELETE FROM facts")

    def add(self, local: sqlite3.Connection, rows: list[tuple]) -> None:
        """(chunk id, title, outlet, published, text) rows, as the store's own FTS5 rows."""
        local.executemany(
            "INSERT INTO chunks_fts (rowid, title, source, published, text) VALUES (?, ?, ?, ?, ?)",
            [(i, title, source or "", date_words(day), text) for i, title, source, day, text in rows],
        )
        local.executemany(
            "INSERT INTO facts (id, published, source) VALUES (?, ?, ?)",
            [(i, day or "", source) for i, _, source, day, _ in rows],
        )

    def rank(self, words: list[str], after: int, limit: int) -> list[tuple[int, float]]:
        match = " OR ".join(f'"{w}"' for w in words)
        rank = f"bm25(chunks_fts, {', '.join(str(w) for w in BM25_WEIGHTS.values())})"
        sql = (
            f"SELECT rowid, -{rank} FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid > ? "
            f"ORDER BY {rank} LIMIT ?"
        )
        with self.lock:
            return [(r[0], r[1]) for r in self.db.execute(sql, [match, after, limit])]

    def count(self, words: list[str], after: int) -> int:
        match = " OR ".join(f'"{w}"' for w in words)
        with self.lock:
            sql = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid > ?"
            return self.db.execute(sql, [match, after]).fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()


class _Immediate:
    """One write transaction on the copy (BEGIN IMMEDIATE: another process's sync waits for it)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, error, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
