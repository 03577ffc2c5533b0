"""The SQL of the per-member limits shared by bot processes (table `member_turns`, migration m013).

One transaction per turn (BEGIN IMMEDIATE: the count and the insert cannot interleave with another
process's), so two processes answering one member never both grant the last turn of a window."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


def take_turn(
    store: Store, bucket: str, member: int, *, now: float, rate: int, window: float
) -> float | None:
    """Record a turn of `member` if they had fewer than `rate` in the last `window` seconds (None);
    otherwise record nothing and return the seconds until their oldest turn leaves the window."""
    since = now - window
    with store.write():
        db = store.db
        db.execute("DELETE FROM member_turns WHERE bucket = ? AND at <= ?", [bucket, since])  # (any member)
        turns = [
            row[0]
            for row in db.execute(
                "SELECT at FROM member_turns WHERE bucket = ? AND member = ? AND at > ? ORDER BY at",
                [bucket, member, since],
            ).fetchall()
        ]
        if len(turns) >= rate:
            return turns[-rate] + window - now
        db.execute("INSERT INTO member_turns (bucket, member, at) VALUES (?, ?, ?)", [bucket, member, now])
        return None
