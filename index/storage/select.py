"""The one way the store reads rows for a list of keys: `... IN ({marks})` with one bound `?` each; and
rows as dicts for the tables of one feature (`TableRows`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence, Sized
from typing import TYPE_CHECKING

from sqlite_utils import Database

if TYPE_CHECKING:
    from .store import Store


def placeholders(values: Sized) -> str:
    """'?,?,?' for an `IN (...)` of these values: each is bound, never spliced into the SQL."""
    return ",".join("?" * len(values))


def select_in(
    db: Database, lock: threading.RLock, sql: str, values: Sequence, params: Sequence = ()
) -> list[tuple]:
    """The rows of `sql`, whose `{marks}` becomes one `?` per value (bound before `params`); none for no
    values, without asking SQLite."""
    if not len(values):
        return []
    with lock:
        return db.execute(sql.replace("{marks}", placeholders(values)), [*values, *params]).fetchall()


class TableRows:
    """The SQL of one feature's tables (alerts, digests) on a Store's connection, under its lock."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _rows(self, sql: str, args: Iterable[object] = ()) -> list[dict]:
        with self.store.lock:
            cursor = self.store.db.execute(sql, list(args))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
