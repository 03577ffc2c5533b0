"""The SQLite store: the source of truth for articles, passages, embeddings and the lexical index.

All SQL lives in this package: `Store` is one connection, and each base class (articles, passages,
fulltext, embeddings, changes) holds the queries of one part of the schema. Methods are thread-safe
(the connection is guarded by a lock) so the bot can call them from worker threads while the event
loop stays free."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from ..scopes import OPERATOR
from .articles import Articles
from .changes import ChangeLog
from .claims import GUILDS, Claims
from .embeddings import EmbeddingCache
from .feeds import FeedRows
from .folder_lock import folder_lock
from .fulltext import (
    FullText,
    Tokenizer,
)
from .migrations import migrations
from .passages import Passages

if TYPE_CHECKING:  # the store routes searches to it; retrieval builds it
    from ..retrieval.lexical import ImpactIndex


class StoreUnusable(ValueError):
    """news.db cannot be used: the data folder is a file, or news.db is not newsbot's SQLite database."""


def _connect(path: Path | str, busy_timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode; StoreUnusable (nothing written) if the file is not a usable database.

    Under the folder lock: a process opening a fresh folder while another creates its database would
    see it half made (locked, or tables without newsbot's migrations table)."""
    if str(path) == ":memory:":
        return _open(path, busy_timeout)
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreUnusable(f"the data folder {folder} is a file, not a folder") from None
    except OSError as error:
        raise StoreUnusable(f"cannot create the data folder {folder} ({error.strerror})") from None
    with folder_lock(folder):
        return _open(path, busy_timeout)


def _open(path: Path | str, busy_timeout: float) -> sqlite3.Connection:
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


class Store(Articles, Claims, Passages, FullText, EmbeddingCache, ChangeLog):
    """One connection guarded by a lock; each base class holds the SQL of one part of the schema."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 60.0):
        conn = _connect(path, busy_timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MB of pages (SQLite's default is 2 MB)
        self.path = str(path)
        self.db = Database(conn)
        self.lock = threading.RLock()
        self._writing = 0  # depth of nested `write()` blocks on this connection
        self._generation = 0  # commits by this connection (PRAGMA data_version counts the others')
        self._sources: list[dict] | None = None  # cache of sources(), dropped on every article write
        self._tokens = Tokenizer()
        # The lexical accelerator for the passages it covers (index/retrieval/lexical.py); FTS5 ranks
        # the rest.
        self.impacts: ImpactIndex | None = None
        self.feeds = FeedRows(self)  # the poller's tables (index/live/)
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
                self._generation += 1
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

    def forget_cached(self) -> None:
        """Drop what is cached from SQLite (another process wrote)."""
        with self.lock:
            self._sources = None

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

    def sources(self, viewer: str | None = None) -> list[dict]:
        """Outlets with their article counts and newest article date, largest first (of the stories
        `viewer` may see: index/scopes.py).

        Every search asks for the outlet names (to spot them in the question), so the answer is kept
        until the next write instead of grouping all articles per query. For a viewer, the operator's
        outlets (all but the servers' own stories) are grouped once per commit and the viewer's own
        stories (few) added to them."""
        if viewer is not None:
            return self._viewer_sources(viewer)
        with self.lock:
            if self._sources is None:
                rows = self.db.execute(
                    "SELECT coalesce(source, 'unknown'), count(*), max(published) FROM articles "
                    "WHERE duplicate_of IS NULL GROUP BY 1 ORDER BY 2 DESC, 1"
                ).fetchall()
                self._sources = [{"source": r[0], "articles": r[1], "newest": r[2]} for r in rows]
            return [dict(row) for row in self._sources]

    def _viewer_sources(self, viewer: str) -> list[dict]:
        key = self._visibility_key()
        with self.lock:
            cached = getattr(self, "_operator_sources", None)
            if cached is None or cached[0] != key:
                rows = self.db.execute(
                    "SELECT coalesce(source, 'unknown'), count(*), max(published) FROM articles "
                    f"WHERE duplicate_of IS NULL AND id NOT IN ({SERVERS_OWN}) GROUP BY 1",
                    [*GUILDS, OPERATOR],
                ).fetchall()
                cached = self._operator_sources = (key, rows)
            merged = {name: [count, newest] for name, count, newest in cached[1]}
            if viewer != OPERATOR:
                own = self.db.execute(
                    "SELECT coalesce(source, 'unknown'), count(*), max(published) FROM articles "
                    f"WHERE duplicate_of IS NULL AND id IN ({SERVERS_OWN} AND c.scope = ?) GROUP BY 1",
                    [*GUILDS, OPERATOR, viewer],
                ).fetchall()
                for name, count, newest in own:
                    was = merged.setdefault(name, [0, None])
                    was[0] += count
                    was[1] = max(filter(None, (was[1], newest)), default=None)
        ordered = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))
        return [{"source": name, "articles": count, "newest": newest} for name, (count, newest) in ordered]


# The servers' own stories (claimed by no operator), as a subquery binding (*GUILDS, OPERATOR).
SERVERS_OWN = (
    "SELECT c.article_id FROM article_claims c WHERE c.scope >= ? AND c.scope < ? AND NOT EXISTS "
    "(SELECT 1 FROM article_claims o WHERE o.article_id = c.article_id AND o.scope = ?)"
)
