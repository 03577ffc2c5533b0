"""When a feed is checked next: its interval plus jitter after a success, exponential back-off after a
failure (capped at 12 hours), and never before a Retry-After the server sent."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MIN_INTERVAL = 300  # never more often than every 5 minutes
DEFAULT_INTERVAL = 900
MAX_INTERVAL = 7 * 24 * 3600
MAX_BACKOFF = 12 * 3600  # a failing (even broken) feed is still tried, at least twice a day
BROKEN_AFTER = 6  # consecutive failures before a feed is shown as broken
JITTER = 0.1  # up to 10% later than due, so feeds added together drift apart
MAX_RETRY_AFTER = 7 * 24 * 3600  # a server's Retry-After is honoured up to a week

_PART = re.compile(r"(\d+)\s*([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str | int) -> int:
    """Seconds from '15m', '1h30m', '900s', '2h' or a number of seconds; ValueError naming the problem."""
    if isinstance(text, int):
        seconds = text
    else:
        cleaned = text.strip().lower().replace(" ", "")
        if not cleaned or _PART.sub("", cleaned):
            raise ValueError(
                f"bad interval '{text}': write it like 15m, 1h, 1h30m or 900s (seconds, minutes, hours, days)"
            )
        seconds = sum(int(n) * _UNIT[unit] for n, unit in _PART.findall(cleaned))
    if seconds < MIN_INTERVAL:
        raise ValueError(
            f"interval {_shown(seconds)} is too short: feeds are checked at most every 5 minutes"
        )
    if seconds > MAX_INTERVAL:
        raise ValueError(f"interval {_shown(seconds)} is too long: at most 7 days")
    return seconds


def _shown(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 and seconds >= 60 else f"{seconds}s"


def after_success(now: float, interval: int, rng: random.Random) -> float:
    return now + interval * (1 + JITTER * rng.random())


def after_failure(
    now: float, interval: int, failures: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """The interval doubled per consecutive failure (from the second), capped at MAX_BACKOFF."""
    delay = min(interval * 2 ** max(failures - 1, 0), MAX_BACKOFF) * (1 + JITTER * rng.random())
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + delay


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
