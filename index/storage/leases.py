"""The SQL of the work leases (table of migration m013; index/coordination.py is the caller).

Each function is one statement on a connection of the lease's own (autocommit), so renewing a lease
never waits behind this process's long writes on the store's connection. Times are seconds since the
epoch: every process sharing an SQLite file runs on one machine, with one clock."""

from __future__ import annotations

import sqlite3


def take(conn: sqlite3.Connection, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take `name` for `holder` until now + ttl if it is free, expired or already the holder's."""
    cursor = conn.execute(
        "INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, "
        "acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
        "ELSE excluded.acquired_at END "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
        [name, holder, now + ttl, now, now],
    )
    return cursor.rowcount == 1


def extend(conn: sqlite3.Connection, name: str, holder: str, now: float, ttl: float) -> bool:
    """Push the holder's expiry to now + ttl; False if `holder` no longer holds `name`."""
    cursor = conn.execute(
        "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", [now + ttl, name, holder]
    )
    return cursor.rowcount == 1


def drop(conn: sqlite3.Connection, name: str, holder: str) -> None:
    conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])


def current(conn: sqlite3.Connection, name: str, now: float) -> str | None:
    """Who holds `name` now (None when nobody does, or the last holder's time ran out)."""
    row = conn.execute("SELECT holder FROM leases WHERE name = ? AND expires_at > ?", [name, now]).fetchone()
    return row[0] if row else None
