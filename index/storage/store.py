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

from .alerts import AlertRows
from .articles import Articles
from .changes import ChangeLog
from .claims import Claims
from .digests import DigestRows
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

    url: str | None = None  # the PostgreSQL store's address (postgres.py); None for SQLite's file

    def __init__(self, path: Path | str, *, busy_timeout: float = 60.0):
        conn = _connect(path, busy_timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MB of pages (SQLite's default is 2 MB)
        self.path = str(path)
        self.db = Database(conn)
        self._setup()
        if migrations.pending(self.db):
            if self.path == ":memory:":
                migrations.apply(self.db)
            else:  # two processes opening a new folder at once must not both create the tables
                with folder_lock(Path(path).parent):
                    _check_ours(self.db, self.path)
                    migrations.apply(self.db)

    def _setup(self) -> None:
        """What every store holds besides its connection."""
        self.lock = threading.RLock()
        self._writing = 0  # depth of nested `write()` blocks on this connection
        self._sources: list[dict] | None = None  # cache of sources(), dropped on every article write
        self._by_viewer: dict[str, tuple] = {}  # sources(viewer) by viewer, with what they were made from
        self._tokens = Tokenizer()
        # The lexical accelerator for the passages it covers (index/retrieval/lexical.py); FTS5 ranks
        # the rest.
        self.impacts: ImpactIndex | None = None
        self.feeds = FeedRows(self)  # the poller's tables (index/live/)
        self.digests = DigestRows(self)  # scheduled digests and their runs (index/live/digests.py)
        self.alerts = AlertRows(self)  # topic alerts (index/live/alerts.py)

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
            self._begin_write()
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

    def _begin_write(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

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
        """Every outlet's figures less the stories `viewer` may not see (few): their counts are taken
        off, and an outlet's newest date is looked up again only when a hidden story held it. Kept
        until the outlet list or the servers' claims change."""
        every = self.sources()
        with self.lock:
            key = (self._sources, self.claims_version())
            cached = self._by_viewer.get(viewer)
            if cached is not None and cached[0][0] is key[0] and cached[0][1] == key[1]:
                return [dict(row) for row in cached[1]]
        merged = []
        hidden = self.hidden_outlets(viewer)
        for row in every:
            gone = hidden.get(row["source"])
            if gone:
                row["articles"] -= len(gone)
                if row["articles"] <= 0:
                    continue
                if row["newest"] is not None and any(day == row["newest"] for _, day in gone):
                    row["newest"] = self._newest_but(row["source"], {story for story, _ in gone})
            merged.append(row)
        merged.sort(key=lambda r: (-r["articles"], r["source"]))
        with self.lock:
            if len(self._by_viewer) >= 256:
                self._by_viewer.pop(next(iter(self._by_viewer)))
            self._by_viewer[viewer] = (key, merged)
        return [dict(row) for row in merged]

    def _newest_but(self, source: str, skip: set[str]) -> str | None:
        """The newest date of an outlet's stories other than `skip` (by the outlets index, m004)."""
        where = "source IS NULL" if source == "unknown" else "source = ?"
        with self.lock:
            rows = self.db.execute(
                f"SELECT id, published FROM articles WHERE duplicate_of IS NULL AND {where} "
                "ORDER BY published DESC",
                [] if source == "unknown" else [source],
            )
            return next((day for story, day in rows if story not in skip), None)
