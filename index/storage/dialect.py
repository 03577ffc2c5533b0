"""The PostgreSQL side of the store's SQL: a connection that speaks the store's SQLite dialect.

The store's queries are written once, in SQLite's dialect, through sqlite_utils' small surface
(`db.execute`, `db.conn.executemany`, `db["table"].insert`). `PgDatabase` offers that surface on a
psycopg 3 connection and rewrites each statement once (cached) where the dialects differ; every
difference between the two lives in `translate` and its tables below:

- `?` placeholders become `%s`;
- `INSERT OR IGNORE` / `INSERT OR REPLACE` become `ON CONFLICT DO NOTHING` / `DO UPDATE` on the
  table's key (`KEYS`);
- `CROSS JOIN ... ON` (SQLite's hint to keep the join order) becomes a plain `JOIN ... ON`;
- `cursor.lastrowid` comes from `RETURNING` the table's serial column (`SERIALS`);
- a bare `BEGIN` (a read that must see one snapshot) is a REPEATABLE READ transaction;
- a unique-key violation is raised as `UniqueViolation`, an `sqlite3.IntegrityError`, so the store's
  `except sqlite3.IntegrityError` holds on both.

What cannot be rewritten statement by statement (the full-text index, write serialisation, the change
log's wake-up) is in index/storage/postgres.py; the schema is in pg_migrations.py."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import FloatDumper, Int8Dumper

KEYS = {"meta": "key", "embeddings": "key", "sentence_vectors": "key", "answer_messages": "message_id"}
SERIALS = {
    "chunks": "id",
    "feeds": "id",
    "feedback": "id",
    "questions": "id",
    "answer_messages": "rowid",
    "digest_schedules": "id",
    "alerts": "id",
}
# Columns an `INSERT OR REPLACE` renews as SQLite's delete-and-insert would (a new rowid: the newest
# answer is forgotten last).
RENEWED = {"answer_messages": "rowid = DEFAULT"}

_UPSERT = re.compile(r"INSERT OR (IGNORE|REPLACE) INTO (\w+) \(([^)]*)\)")
_INSERT = re.compile(r"\s*INSERT INTO (\w+)")


class UniqueViolation(sqlite3.IntegrityError):
    """A PostgreSQL unique or key violation, raised as SQLite's, which the store already handles."""


@lru_cache(maxsize=1024)
def translate(sql: str, *, returning: bool = True) -> tuple[str, bool]:
    """(PostgreSQL text of a statement in the store's SQLite dialect, whether it returns a row id)."""
    if sql.strip() == "BEGIN":
        return "BEGIN ISOLATION LEVEL REPEATABLE READ", False
    text = sql.replace("%", "%%").replace("?", "%s").replace("CROSS JOIN", "JOIN")
    upsert = _UPSERT.match(text)
    if upsert:
        kind, table, columns = upsert.groups()
        text = "INSERT INTO" + text[len("INSERT OR ") + len(kind) + len(" INTO") :]
        if kind == "IGNORE":
            text += " ON CONFLICT DO NOTHING"
        else:
            key = KEYS[table]
            sets = [f"{c} = EXCLUDED.{c}" for c in (c.strip() for c in columns.split(",")) if c != key]
            sets += [RENEWED[table]] if table in RENEWED else []
            text += f" ON CONFLICT ({key}) DO UPDATE SET {', '.join(sets)}"
    insert = _INSERT.match(text)
    serial = SERIALS.get(insert.group(1)) if insert and returning else None
    if serial and "RETURNING" not in text:
        text += f" RETURNING {serial}"
    return text, serial is not None


class Cursor:
    """A psycopg cursor with sqlite3's `lastrowid`."""

    def __init__(self, cursor: psycopg.Cursor, returns_id: bool):
        self._cursor = cursor
        self.lastrowid = cursor.fetchone()[0] if returns_id else None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall()

    def fetchmany(self, size: int) -> list[tuple]:
        return self._cursor.fetchmany(size)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._cursor)


class _Conn:
    """What the store uses of `db.conn`: executemany and whether a transaction is open."""

    def __init__(self, db: PgDatabase):
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return self._db.pg.info.transaction_status != TransactionStatus.IDLE

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        rows = list(rows)
        if rows:
            with _errors():
                self._db.pg.cursor().executemany(translate(sql, returning=False)[0], rows)


class _Table:
    def __init__(self, db: PgDatabase, name: str):
        self.db, self.name = db, name

    def insert(self, row: dict) -> None:
        self.insert_all([row])

    def insert_all(self, rows: Iterable[dict], *, ignore: bool = False) -> None:
        rows = list(rows)
        if not rows:
            return
        columns = list(rows[0])
        verb = "INSERT OR IGNORE INTO" if ignore else "INSERT INTO"
        sql = f"{verb} {self.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        self.db.conn.executemany(sql, [[row[c] for c in columns] for row in rows])


class _errors:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> None:
        if isinstance(error, psycopg.errors.IntegrityError):
            raise UniqueViolation(str(error)) from error


class PgDatabase:
    """One autocommit psycopg connection behind sqlite_utils' `Database` surface (what the store uses):
    each statement commits alone unless the store opened a transaction with `BEGIN`."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0):
        self.url, self.connect_timeout = url, int(connect_timeout)
        self.pg = self._connect()
        self.conn = _Conn(self)

    def _connect(self) -> psycopg.Connection:
        pg = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
        for kind in (np.int64, np.int32, np.intc):  # ids handed over as numpy integers
            pg.adapters.register_dumper(kind, Int8Dumper)
        pg.adapters.register_dumper(np.float64, FloatDumper)
        pg.adapters.register_dumper(np.float32, FloatDumper)
        return pg

    def execute(self, sql: str, params: Sequence = ()) -> Cursor:
        if self.pg.broken:  # the server restarted or failed over: the statement that saw it failed
            self.pg = self._connect()  # (never retried: it may have committed); the next ones go on
        text, returns_id = translate(sql)
        with _errors():
            return Cursor(self.pg.execute(text, list(params)), returns_id)

    def __getitem__(self, table: str) -> _Table:
        return _Table(self, table)

    def close(self) -> None:
        self.pg.close()
