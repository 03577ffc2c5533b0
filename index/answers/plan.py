"""From a question to what is searched: follow-ups resolved, relative dates and named outlets turned
into filters (combined with the caller's own)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from ..engine import Engine
from ..retrieval.query import clean_question
from .dates import DateRange, intersect, parse_dates
from .followup import Turn, resolve
from .outlets import find_outlets

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
    dates, query = parse_dates(query, today(now))
    named = find_outlets(query, store_outlets(engine))
    query = named.rest if named.outlets else query
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
    )
    log.debug("plan: %s", plan)
    return plan


def _clean_turn(turn: Turn) -> Turn:
    """An earlier question cleaned like the new one (an Answer's question was cleaned when asked)."""
    if isinstance(turn, str):
        return clean_question(turn)
    if isinstance(turn, tuple):
        return (clean_question(turn[0]), turn[1])
    return turn
