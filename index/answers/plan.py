"""From a question to what is searched: follow-ups resolved, relative dates and named outlets turned
into filters (combined with the caller's own)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from ..engine import Engine
from ..retrieval.query import clean_question
from ..words import MONTHS
from .dates import DateRange, intersect, parse_dates
from .followup import Turn, resolve
from .outlets import find_outlets
from .reach import beyond_the_news
from .sides import Side, split_sides
from .terms import GENERAL_NEWS_WORDS, content_terms, words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    question: str  # as asked
    query: str  # what is searched and scored: resolved, without the date and outlet words
    since: str | None
    until: str | None
    sources: tuple[str, ...] | None
    prefer_recent: bool = False
    named_outlets: tuple[str, ...] = ()  # outlets the question itself named
    dates: DateRange = field(default_factory=DateRange)
    beyond: str | None = None  # words asking about after the clock ("tomorrow", "2030"): not news yet
    sides: tuple[Side, ...] = ()  # the reports a question compares, one per outlet it names


def today(now: date | datetime | str | None = None) -> date:
    """The clock: `now` when given (a date, a datetime or an ISO string), else today."""
    if now is None:
        return date.today()
    if isinstance(now, datetime):
        return now.date()
    if isinstance(now, date):
        return now
    return date.fromisoformat(str(now)[:10])


class Asked(TypedDict, total=False):
    """What a caller may give with a question (see `make_plan`): its filters, earlier turns, the clock."""

    since: str | None
    until: str | None
    sources: Iterable[str] | None
    history: Sequence[Turn]
    now: date | datetime | str | None


def store_outlets(engine: Engine) -> list[str]:
    return [row["source"] for row in engine.sources() if row["source"] != "unknown"]


def make_plan(
    engine: Engine,
    question: str,
    *,
    since: str | None = None,
    until: str | None = None,
    sources: Iterable[str] | None = None,
    history: Sequence[Turn] = (),
    now: date | datetime | str | None = None,
) -> Plan:
    question = clean_question(question)
    history = tuple(_clean_turn(turn) for turn in history)
    query = resolve(question, history)
    outlets = store_outlets(engine)
    named = find_outlets(query, outlets)  # first, so "Business Today" is not a date
    query = named.rest if named.outlets else query
    dates, rest = parse_dates(query, today(now))
    if dates.active and not describes_event(engine, dates, rest):
        query = rest
    else:
        dates = DateRange(prefer_recent=dates.prefer_recent)
    chosen = tuple(sources) if sources else named.outlets or None
    plan = Plan(
        question=question,
        query=query,
        since=intersect(since, dates.since, later=True),
        until=intersect(until, dates.until, later=False),
        sources=chosen,
        prefer_recent=dates.prefer_recent,
        named_outlets=named.outlets,
        dates=dates,
        beyond=beyond_the_news(question, today(now)),
        sides=tuple(split_sides(question, outlets)),
    )
    log.debug("plan: %s", plan)
    return plan


def describes_event(engine: Engine, dates: DateRange, rest: str) -> bool:
    """A named period no held article was published in ("banned Falun Gong in 1999") dates what the
    question is about, not the news it asks for: it stays a word of the question instead of a filter.
    A question with nothing but the period ("what happened in 2019?") keeps it as a filter, and is told
    so; so does a relative one ("this week")."""
    if not _absolute(dates.phrase or "") or not set(content_terms(rest)) - GENERAL_NEWS_WORDS:
        return False
    return not engine.articles(since=dates.since, until=dates.until, limit=1)


def _absolute(phrase: str) -> bool:
    """A named year or month ("in 1999", "in March"), which may date an event; "this week" or
    "yesterday" only ever says when the news was published."""
    return bool(re.search(r"\b(?:19|20)\d\d\b", phrase)) or any(w in MONTHS for w in words(phrase))


def _clean_turn(turn: Turn) -> Turn:
    """An earlier question cleaned like the new one (an Answer's question was cleaned when asked)."""
    if isinstance(turn, str):
        return clean_question(turn)
    if isinstance(turn, tuple):
        return (clean_question(turn[0]), turn[1])
    return turn
