"""Understanding a question before searching: the outlets and dates it names.

News questions often say where and when something was reported ("as reported by TechCrunch", "The
Verge's article of October 10, 2023", "published after October 2023"). `parse_query` finds those
mentions so search can favour the articles they point at, and the answer engine can reuse them.
Outlet names are matched by `outlets.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ..words import MONTHS
from .outlets import OutletMention, find_outlets

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_PATTERNS = [
    re.compile(rf"\b{_YEAR}-(?P<mnum>\d\d)-(?P<day>\d\d)\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
]
_RELATION = re.compile(
    r"\b(?P<word>after|since|following|before|prior\s+to|until|by|between|on|in|from|and|to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_RELATIONS = {
    "after": "after",
    "since": "after",
    "following": "after",
    "from": "after",
    "before": "before",
    "until": "before",
    "by": "before",
    "to": "before",
}


@dataclass(frozen=True)
class DateMention:
    """A date named in a question: a day (`day` set) or a whole month (`day` None)."""

    year: int
    month: int
    day: int | None
    relation: str | None  # "after", "before" or None (on / in / unspecified)
    start: int
    end: int

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" + (f"-{self.day:02d}" if self.day else "")


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    outlets: tuple[str, ...] = ()  # stored outlet names mentioned, in order of first mention
    dates: tuple[DateMention, ...] = ()
    outlet_mentions: tuple[OutletMention, ...] = field(default=(), repr=False)

    @property
    def days(self) -> tuple[str, ...]:
        """ISO days named in the question."""
        return tuple(dict.fromkeys(d.iso for d in self.dates if d.day))

    @property
    def since(self) -> str | None:
        """The earliest date the question asks from ("after/since ..."), as an ISO day, if any."""
        starts = [_first_day(d) if d.day else _month_end_next(d) for d in self.dates if d.relation == "after"]
        return min(starts) if starts else None

    @property
    def until(self) -> str | None:
        """The latest date the question asks up to ("before/until ..."), as an ISO day, if any."""
        ends = [_first_day(d) for d in self.dates if d.relation == "before"]
        return max(ends) if ends else None


# Not text a question can mean: lone surrogates (a command line's undecodable bytes, a JSON "\\ud800"),
# which the tokenizer and SQLite refuse, and control characters other than whitespace.
_NOT_TEXT = re.compile("[\ud800-\udfff\x00-\x08\x0e-\x1f\x7f]")


def clean_question(text: str) -> str:
    """A question as the engine reads it: what is not text becomes a space; trimmed. Applied once where
    questions enter (search and the answer plan), so every caller (CLI, bot, tests) gets the same."""
    return _NOT_TEXT.sub(" ", text).strip()


def parse_query(text: str, outlets: Iterable[str] = ()) -> ParsedQuery:
    text = clean_question(text)
    mentions = find_outlets(text, outlets)
    return ParsedQuery(
        text=text,
        outlets=tuple(dict.fromkeys(m.outlet for m in mentions)),
        dates=tuple(find_dates(text)),
        outlet_mentions=tuple(mentions),
    )


# -- dates ------------------------------------------------------------------------------------------


def find_dates(text: str) -> list[DateMention]:
    """Days and months named with a year, with "after"/"before" when the words before say so."""
    found = (_mention(match, text) for match in _date_matches(text))
    return [mention for mention in found if mention is not None]


def _date_matches(text: str) -> list[re.Match[str]]:
    """Non-overlapping date matches, most specific pattern first, in text order."""
    taken: list[re.Match[str]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if not any(t.start() < match.end() and match.start() < t.end() for t in taken):
                taken.append(match)
    return sorted(taken, key=lambda m: m.start())


def _mention(match: re.Match[str], text: str) -> DateMention | None:
    parts = match.groupdict()
    year = int(parts["year"])
    month = int(parts["mnum"]) if parts.get("mnum") else MONTHS[parts["month"].lower()]
    day = int(parts["day"]) if parts.get("day") else None
    try:
        date(year, month, day or 1)
    except ValueError:
        return None
    return DateMention(year, month, day, _relation(text, match.start()), match.start(), match.end())


def _relation(text: str, start: int) -> str | None:
    """The relation ("after", "before") the words just before a date give it, or its place in
    "between X and Y"."""
    before = _RELATION.search(text[max(0, start - 40) : start])
    word = re.sub(r"\s+", " ", before.group("word").lower()) if before else ""
    if word in _RELATIONS and word != "between":
        return _RELATIONS[word]
    opened = re.search(r"\bbetween\b(?P<rest>[^.?!;]{0,160})$", text[:start], re.IGNORECASE)
    if opened is None:
        return None
    earlier = len(_date_matches(opened.group("rest")))
    return "after" if earlier == 0 else "before" if earlier == 1 else None


def _first_day(mention: DateMention) -> str:
    return f"{mention.year:04d}-{mention.month:02d}-{(mention.day or 1):02d}"


def _month_end_next(mention: DateMention) -> str:
    """The day after the month ends: "after October 2023" starts on 2023-11-01."""
    year, month = (mention.year + 1, 1) if mention.month == 12 else (mention.year, mention.month + 1)
    return f"{year:04d}-{month:02d}-01"
