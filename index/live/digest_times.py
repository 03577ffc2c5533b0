"""When a scheduled digest is due: "daily 08:00 Europe/Paris" or "weekly mon 08:00 Europe/Paris".

A schedule names a local wall time, so 08:00 stays 08:00 local across daylight-saving changes: a day is
never skipped nor run twice. On a spring-forward day a time that does not exist (02:30 in Paris on the
last Sunday of March) runs at the first instant that exists after it (03:00 local, the transition); on
a fall-back day an ambiguous time (02:30 twice) runs once, at its first occurrence. Times are seconds
since the epoch; the zone is an IANA name read by zoneinfo (the `tzdata` package brings the database
where the system has none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: i for i, name in enumerate(DAYS)} | {
    full: i
    for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
EXAMPLE = 'write it like "daily 08:00 Europe/Paris" or "weekly mon 08:00 Europe/Paris"'


class WhenError(ValueError):
    """A schedule that cannot be read: the message names the part that is wrong."""


@dataclass(frozen=True)
class When:
    """A digest's schedule: every day (`weekday` None) or one day a week, at hour:minute local time."""

    hour: int
    minute: int
    zone: str
    weekday: int | None = None  # 0 = Monday

    @property
    def period(self) -> timedelta:
        return timedelta(days=1 if self.weekday is None else 7)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def __str__(self) -> str:
        day = "daily" if self.weekday is None else f"weekly {DAYS[self.weekday]}"
        return f"{day} {self.hour:02d}:{self.minute:02d} {self.zone}"


def parse_when(text: str) -> When:
    """A `When` from "daily HH:MM Zone/Name" or "weekly DAY HH:MM Zone/Name"; WhenError naming the problem."""
    words = (text or "").split()
    if not words or words[0].lower() not in ("daily", "weekly"):
        raise WhenError(f'"{text}" does not say daily or weekly: {EXAMPLE}')
    weekday = None
    if words[0].lower() == "weekly":
        if len(words) < 2 or words[1].lower() not in _DAY_NAMES:
            got = words[1] if len(words) > 1 else "nothing"
            raise WhenError(f'bad day "{got}": a weekly digest names a day, mon to sun ({EXAMPLE})')
        weekday = _DAY_NAMES[words[1].lower()]
    rest = words[1 if weekday is None else 2 :]
    if len(rest) != 2:
        raise WhenError(f'"{text}" needs a time and a time zone after the day: {EXAMPLE}')
    hour, minute = _parse_time(rest[0])
    return When(hour, minute, _parse_zone(rest[1]), weekday)


def _parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise WhenError(f'bad time "{text}": a 24-hour time from 00:00 to 23:59, like 08:00 or 18:30')
    return int(match.group(1)), int(match.group(2))


def _parse_zone(text: str) -> str:
    if "/" in text or text.upper() == "UTC":  # (not "Paris", nor a file path zoneinfo would try)
        try:
            ZoneInfo(text)
            return text if text.upper() != "UTC" else "UTC"
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise WhenError(f'unknown time zone "{text}": an IANA name like Europe/Paris, America/New_York or UTC')


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant of wall time `at` on `day` in `tz`: the first occurrence of an ambiguous time, the
    first existing instant after a time that does not exist (skipped by a spring-forward change)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)  # exists (fold 0 is the earlier of an ambiguous pair)
    # In a gap: the UTC readings of fold 1 and fold 0 straddle the transition; the first instant at or
    # after it whose local reading is past the wall time is the transition itself.
    lo = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(first.timestamp())
    lo, hi = min(lo, hi), max(lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, UTC)


def _instants_around(when: When, moment: float) -> list[float]:
    """Due instants on the local days from 8 days before to 8 days after `moment`, in order."""
    tz = when.tz
    today = datetime.fromtimestamp(moment, tz).date()
    at = time(when.hour, when.minute)
    days = [today + timedelta(days=d) for d in range(-8, 9)]
    return [
        local_instant(day, at, tz).timestamp()
        for day in days
        if when.weekday is None or day.weekday() == when.weekday
    ]


def next_due(when: When, after: float) -> float:
    """The first due instant strictly after `after` (seconds since the epoch)."""
    return next(t for t in _instants_around(when, after) if t > after)


def latest_due(when: When, at: float) -> float:
    """The latest due instant at or before `at`."""
    return max(t for t in _instants_around(when, at) if t <= at)


def local_text(moment: float, zone: str) -> str:
    """A moment as its local date and time: "2026-03-29 08:00 CEST"."""
    return datetime.fromtimestamp(moment, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
