"""Relative dates in a question ("yesterday", "last week", "in March") as date filters, relative to a
clock that tests can set."""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from ..words import MONTHS, WEEKDAYS

log = logging.getLogger(__name__)

NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
_COUNT = r"(?P<count>\d+|" + "|".join(NUMBERS) + r")"
_RECENT = re.compile(r"\b(latest|most recent|recent(ly)?|newest|lately|breaking|current(ly)?)\b", re.I)


@dataclass(frozen=True)
class DateRange:
    since: str | None = None
    until: str | None = None
    phrase: str | None = None  # the words of the question that said it
    prefer_recent: bool = False

    @property
    def active(self) -> bool:
        return bool(self.since or self.until)


def _iso(d: date) -> str:
    return d.isoformat()


def _month_range(year: int, month: int, today: date) -> tuple[date, date]:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, 1), min(last, today) if (year, month) == (today.year, today.month) else last


def _previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _last_weekday(today: date, weekday: int) -> date:
    return today - timedelta(days=(today.weekday() - weekday) % 7)


Rule = Callable[[re.Match, date], tuple[date | None, date | None]]


def _n(match: re.Match) -> int:
    word = match.group("count").lower()
    return int(word) if word.isdigit() else NUMBERS[word]


def _named_month(m: re.Match, today: date) -> tuple[date, date]:
    month = MONTHS[m.group("month").lower()]
    year = int(m.group("year")) if m.groupdict().get("year") else None
    if year is None:  # the most recent such month: "in March" said in February means last March
        year = today.year if month <= today.month else today.year - 1
    return _month_range(year, month, today)


def _since_month(m: re.Match, today: date) -> tuple[date, None]:
    month = MONTHS[m.group("month").lower()]
    day = int(m.group("day")) if m.group("day") else 1
    year = int(m.group("year")) if m.group("year") else None
    if year is None:
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1])), None


# (pattern, rule): first match wins; patterns are tried in this order.
RULES: list[tuple[re.Pattern, Rule]] = [
    (re.compile(r"\b(today|tonight|this morning|this afternoon)\b", re.I), lambda m, t: (t, t)),
    (
        re.compile(r"\byesterday\b", re.I),
        lambda m, t: (t - timedelta(days=1), t - timedelta(days=1)),
    ),
    (
        re.compile(
            rf"\b(in |over |during )?the (last|past) {_COUNT} (?P<unit>day|week|month|year)s?\b", re.I
        ),
        lambda m, t: (t - timedelta(days=_n(m) * UNIT_DAYS[m.group("unit").lower()] - 1), t),
    ),
    (
        re.compile(r"\b(in |over |during )?the (last|past) (?P<unit>day|week|month|year)\b", re.I),
        lambda m, t: (t - timedelta(days=UNIT_DAYS[m.group("unit").lower()] - 1), t),
    ),
    (re.compile(r"\b(so far )?this week\b", re.I), lambda m, t: (_week_start(t), t)),
    (
        re.compile(r"\blast weekend\b", re.I),
        lambda m, t: (_week_start(t) - timedelta(days=2), _week_start(t) - timedelta(days=1)),
    ),
    (
        re.compile(r"\blast week\b", re.I),
        lambda m, t: (_week_start(t) - timedelta(days=7), _week_start(t) - timedelta(days=1)),
    ),
    (re.compile(r"\bthis month\b", re.I), lambda m, t: (t.replace(day=1), t)),
    (re.compile(r"\blast month\b", re.I), lambda m, t: _month_range(*_previous_month(t), t)),
    (re.compile(r"\bthis year\b", re.I), lambda m, t: (date(t.year, 1, 1), t)),
    (
        re.compile(r"\blast year\b", re.I),
        lambda m, t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31)),
    ),
    (re.compile(rf"\bsince (last )?{_DAY}\b", re.I), lambda m, t: (_last_weekday(t, _wd(m)), t)),
    (
        re.compile(rf"\bon {_DAY}\b", re.I),
        lambda m, t: (_last_weekday(t, _wd(m)), _last_weekday(t, _wd(m))),
    ),
    (
        re.compile(
            rf"\bsince {_MONTH}(?: (?P<day>\d{{1,2}})(?:st|nd|rd|th)?)?,?(?: (?P<year>\d{{4}}))?\b", re.I
        ),
        _since_month,
    ),
    (
        re.compile(r"\bsince (?P<year>(19|20)\d\d)\b", re.I),
        lambda m, t: (date(int(m.group("year")), 1, 1), None),
    ),
    (
        re.compile(
            rf"\b(in|during|from|of|throughout) (early |late |mid-?)?{_MONTH}"
            rf"(?!\s+\d{{1,2}}(?:st|nd|rd|th)?\b)(?:,? (?P<year>(19|20)\d\d))?\b",
            re.I,
        ),
        _named_month,
    ),
    (
        re.compile(r"\b(in|during|throughout|from) (?P<year>(19|20)\d\d)\b(?![-/,.]\d)", re.I),
        lambda m, t: (date(int(m.group("year")), 1, 1), min(date(int(m.group("year")), 12, 31), t)),
    ),
]


def _wd(m: re.Match) -> int:
    return WEEKDAYS[m.group("weekday").lower()]


def parse_dates(question: str, today: date) -> tuple[DateRange, str]:
    """The date range a question asks about, and the question without the words that said it."""
    prefer_recent = bool(_RECENT.search(question))
    for pattern, rule in RULES:
        match = pattern.search(question)
        if match is None or not _month_word_ok(match):
            continue
        since, until = rule(match, today)
        rest = (question[: match.start()] + question[match.end() :]).strip()
        rng = DateRange(
            _iso(since) if since else None, _iso(until) if until else None, match.group(), prefer_recent
        )
        return rng, " ".join(rest.split())
    return DateRange(prefer_recent=prefer_recent), question


def _month_word_ok(match: re.Match) -> bool:
    """ "in may" is a verb more often than a month: the month May must be capitalised."""
    month = match.groupdict().get("month")
    return month is None or month.lower() != "may" or month == "May"


def intersect(a: str | None, b: str | None, *, later: bool) -> str | None:
    """Combine two bounds: the later of two `since`, the earlier of two `until`."""
    if a is None or b is None:
        return a or b
    return max(a, b) if later else min(a, b)
