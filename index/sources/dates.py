"""Normalising the many ways sources write dates to ISO 'YYYY-MM-DD' (or None: never guessed)."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])")
_ISO_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:$|T)")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_WORDY_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
_MIN_YEAR, _MAX_YEAR = 1800, 2200


def normalise_date(value: object) -> str | None:
    """Return `value` as 'YYYY-MM-DD', or None when it is missing or not a recognisable date.

    Accepts ISO dates and datetimes (the date is taken as written, in the writer's own time zone),
    RFC 2822 dates ("Fri, 28 Mar 2025 09:30:00 +0000"), "May 1, 2024" / "1 May 2024", `date` and
    `datetime` objects, `time.struct_time` (as feedparser gives) and Unix timestamps.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _checked(value.date())
    if isinstance(value, date):
        return _checked(value)
    if isinstance(value, time.struct_time):
        return _from_parts(value.tm_year, value.tm_mon, value.tm_mday)
    if isinstance(value, int | float):
        return _from_timestamp(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\"'").strip()
    if not text:
        return None
    for pattern in (_ISO_DATE, _ISO_COMPACT, _SLASHED):
        match = pattern.match(text)
        if match:
            return _from_parts(*(int(group) for group in match.groups()))
    try:
        return _checked(parsedate_to_datetime(text).date())
    except (TypeError, ValueError, IndexError):
        pass
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _WORDY_FORMATS:
        try:
            return _checked(datetime.strptime(cleaned, fmt).date())
        except ValueError:
            continue
    log.debug("unrecognised date %r", value)
    return None


def _from_parts(year: int, month: int, day: int) -> str | None:
    try:
        return _checked(date(year, month, day))
    except ValueError:
        return None


def _from_timestamp(seconds: float) -> str | None:
    if seconds > 1e11:  # milliseconds since the epoch
        seconds /= 1000
    try:
        return _checked(datetime.fromtimestamp(seconds, tz=UTC).date())
    except (OverflowError, OSError, ValueError):
        return None


def _checked(day: date) -> str | None:
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        return None
    return day.isoformat()
