"""The SQL of scheduled digests and their runs (tables of migration m012).

`DigestRows` works on a Store's connection under its lock; writes go through `Store.write()` (BEGIN
IMMEDIATE). A run is claimed by inserting its (schedule, due) row: the primary key lets one process
in, whichever comes first, so a digest is never made twice from one data folder."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from .select import TableRows

SCHEDULE_COLUMNS = ("id", "scope", "channel_id", "schedule", "topic", "added_by", "created_at", "paused")
RUN_COLUMNS = ("schedule_id", "due", "since", "status", "stories", "reason", "claimed_at", "finished_at")
FINISHED = ("delivered", "empty")  # runs the next one's period starts from


class DigestRows(TableRows):
    # -- schedules ------------------------------------------------------------------------------

    def add(self, row: dict, *, limit: int) -> int | None:
        """Insert a schedule unless its scope already has `limit` (then None), in one transaction."""
        columns = [c for c in SCHEDULE_COLUMNS if c not in ("id", "paused")]
        sql = (
            f"INSERT INTO digest_schedules ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        with self.store.write():
            count = self.store.db.execute(
                "SELECT count(*) FROM digest_schedules WHERE scope = ?", [row["scope"]]
            ).fetchone()[0]
            if count >= limit:
                return None
            return self.store.db.execute(sql, [row.get(c) for c in columns]).lastrowid

    def schedules(self, scope: str | None = None) -> list[dict]:
        select = f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM digest_schedules"
        if scope is None:
            return self._rows(f"{select} ORDER BY id")
        return self._rows(f"{select} WHERE scope = ? ORDER BY id", [scope])

    def schedule(self, schedule_id: int) -> dict | None:
        rows = self._rows(
            f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM digest_schedules WHERE id = ?", [schedule_id]
        )
        return rows[0] if rows else None

    def remove(self, schedule_id: int, scope: str) -> bool:
        with self.store.write():
            cursor = self.store.db.execute(
                "DELETE FROM digest_schedules WHERE id = ? AND scope = ?", [schedule_id, scope]
            )
            return cursor.rowcount > 0

    def set_paused(self, scope: str, paused: bool) -> int:
        """Pause (or resume) the scope's schedules; how many changed."""
        with self.store.write():
            return self.store.db.execute(
                "UPDATE digest_schedules SET paused = ? WHERE scope = ? AND paused = ?",
                [int(paused), scope, int(not paused)],
            ).rowcount

    def remove_channel(self, channel_id: int) -> int:
        """Drop the schedules posting to a channel that no longer exists."""
        with self.store.write():
            return self.store.db.execute(
                "DELETE FROM digest_schedules WHERE channel_id = ?", [channel_id]
            ).rowcount

    # -- runs -----------------------------------------------------------------------------------

    def claim(self, schedule_id: int, due: float, since: float, now: float) -> bool:
        """Insert the (schedule, due) run as "claimed"; False if any process already has."""
        try:
            with self.store.write():
                if (
                    self.store.db.execute(
                        "SELECT 1 FROM digest_schedules WHERE id = ?", [schedule_id]
                    ).fetchone()
                    is None
                ):
                    return False  # removed meanwhile
                self.store.db.execute(
                    "INSERT INTO digest_runs (schedule_id, due, since, status, claimed_at) "
                    "VALUES (?, ?, ?, 'claimed', ?)",
                    [schedule_id, due, since, now],
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def has_run(self, schedule_id: int, due: float) -> bool:
        with self.store.lock:
            return (
                self.store.db.execute(
                    "SELECT 1 FROM digest_runs WHERE schedule_id = ? AND due = ?", [schedule_id, due]
                ).fetchone()
                is not None
            )

    def finish(
        self,
        schedule_id: int,
        due: float,
        status: str,
        now: float,
        *,
        stories: Iterable[str] = (),
        reason: str | None = None,
    ) -> None:
        with self.store.write():
            self.store.db.execute(
                "UPDATE digest_runs SET status = ?, stories = ?, reason = ?, finished_at = ? "
                "WHERE schedule_id = ? AND due = ?",
                [status, json.dumps(list(stories)), reason, now, schedule_id, due],
            )

    def runs(self, schedule_id: int) -> list[dict]:
        return self._rows(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM digest_runs WHERE schedule_id = ? ORDER BY due",
            [schedule_id],
        )

    def last_finished(self, schedule_id: int, before: float) -> dict | None:
        """The latest run before `before` that was posted (or had nothing to post)."""
        rows = self._rows(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM digest_runs WHERE schedule_id = ? AND due < ? AND "
            f"status IN ({', '.join('?' for _ in FINISHED)}) ORDER BY due DESC LIMIT 1",
            [schedule_id, before, *FINISHED],
        )
        return rows[0] if rows else None

    def delivered_stories(self, schedule_id: int, since: float) -> set[str]:
        """The stories the schedule's delivered runs due at or after `since` carried."""
        rows = self._rows(
            "SELECT stories FROM digest_runs WHERE schedule_id = ? AND due >= ? AND status = 'delivered'",
            [schedule_id, since],
        )
        return {story for row in rows for story in json.loads(row["stories"])}
