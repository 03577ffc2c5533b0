"""Pure parsing of what members type: dates, mentions, and choices for autocomplete."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from discord import app_commands

from .errors import UserFacingError

_RELATIVE = re.compile(r"^(\d{1,4})\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
_NAMED = {"today": 0, "yesterday": 1, "week": 7, "month": 30, "year": 365}
CHOICE_LIMIT = 25  # Discord's cap on autocomplete choices
CHOICE_TEXT_LIMIT = 100  # and on a choice's name and value


def parse_since(text: str | None, today: dt.date | None = None) -> str | None:
    """An ISO date from "2024-05-01", "7d", "2 weeks", "yesterday"...; None for nothing."""
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    today = today or dt.date.today()
    if value in _NAMED:
        return (today - dt.timedelta(days=_NAMED[value])).isoformat()
    if match := _RELATIVE.match(value):
        days = int(match.group(1)) * _UNIT_DAYS[match.group(2)[0]]
        return (today - dt.timedelta(days=days)).isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UserFacingError(
            f"I could not read {text!r} as a date: use 2024-05-01, 7d, 2 weeks or yesterday."
        ) from None


def strip_mentions(content: str, ids: Iterable[int]) -> str:
    """The message without mentions of the bot (user or role mentions by id)."""
    for mention_id in ids:
        content = re.sub(rf"<@[!&]?{mention_id}>", " ", content)
    return " ".join(content.split())


def _fit(text: str) -> str:
    return text if len(text) <= CHOICE_TEXT_LIMIT else text[: CHOICE_TEXT_LIMIT - 1] + "…"


def title_choices(
    titles: Iterable[tuple[str, str]], current: str, limit: int = CHOICE_LIMIT
) -> list[app_commands.Choice[str]]:
    """Up to 25 (id, title) pairs whose title contains what was typed, titles starting with it first.

    The choice's name is the title (shortened with "…" to Discord's 100 characters); its value is the id.
    """
    needle = current.strip().casefold()
    starts, contains = [], []
    for article_id, title in titles:
        folded = title.casefold()
        if not needle or folded.startswith(needle):
            starts.append((article_id, title))
        elif needle in folded:
            contains.append((article_id, title))
    picked = (starts + contains)[:limit]
    return [app_commands.Choice(name=_fit(title), value=article_id) for article_id, title in picked]


def name_choices(
    names: Iterable[str], current: str, limit: int = CHOICE_LIMIT
) -> list[app_commands.Choice[str]]:
    needle = current.strip().casefold()
    found = [n for n in names if needle in n.casefold() and len(n) <= CHOICE_TEXT_LIMIT]
    return [app_commands.Choice(name=n, value=n) for n in found[:limit]]


def resolve_article(titles: Iterable[tuple[str, str]], typed: str) -> str:
    """The article id a member chose: an id offered by autocomplete, or a title typed exactly.

    Autocomplete only suggests: Discord lets members submit anything, so the value is checked here.
    """
    pairs = list(titles)
    if any(article_id == typed for article_id, _ in pairs):
        return typed
    exact = [article_id for article_id, title in pairs if title.casefold() == typed.strip().casefold()]
    if len(exact) == 1:
        return exact[0]
    raise UserFacingError("I don't know that article: pick a title from the suggestions.")


def interval_text(seconds: int) -> str:
    """900 → "15 min", 3600 → "1 h", 5400 → "90 min", 86400 → "1 day"."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
