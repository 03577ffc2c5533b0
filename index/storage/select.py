"""The one way the store reads rows for a list of keys: `... IN ({marks})` with one bound `?` each."""

from __future__ import annotations

import threading
from collections.abc import Sequence, Sized

from sqlite_utils import Database


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
