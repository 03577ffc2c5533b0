"""Snowflakes and timestamps that look exactly like Discord's."""

from __future__ import annotations

import datetime as dt
import itertools
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(when: dt.datetime, increment: int = 0) -> int:
    """A snowflake whose embedded creation time is ``when`` (UTC if naive)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    ms = int(when.timestamp() * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (increment & 0xFFF)


def snowflake_time(snowflake: int) -> dt.datetime:
    """The creation time encoded in a snowflake (inverse of :func:`snowflake_at`)."""
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso(when: dt.datetime | None = None) -> str:
    """ISO-8601 timestamp with an explicit UTC offset, as Discord sends them."""
    return (when or dt.datetime.now(dt.UTC)).isoformat()


class SnowflakeFactory:
    """Strictly increasing snowflakes stamped with the current time (worker 1, process 0)."""

    def __init__(self) -> None:
        self._last = 0
        self._counter = itertools.count()

    def __call__(self) -> int:
        ms = int(time.time() * 1000)
        value = ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value
