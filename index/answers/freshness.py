"""When an answer should say how current the news it holds is ("as of …"), and as of when.

An answer about the news is only as good as the last check of the feeds. Saying so on every answer is
noise, so it is said when it matters:
- the question asks about what is recent ("latest", "today", "this week", "still", "so far", ...); or
- the newest article the asker can see is more than `STALE_AFTER` old: whatever was asked, the reader
  should know the news held stops there.
The moment shown is the latest successful poll of a feed the asker sees, or, with no feeds, the last
time the news held changed.
"""

from __future__ import annotations

import datetime as dt
import re

STALE_AFTER = dt.timedelta(days=1)

_RECENT = re.compile(
    r"\b(?:latest|newest|recent|recently|lately|today|tonight|yesterday|this (?:morning|afternoon|evening"
    r"|week|month|year)|right now|now|currently|at the moment|breaking|so far|still|any news|news on"
    r"|updates?|developments?|just)\b",
    re.IGNORECASE,
)


def asks_about_recent(question: str) -> bool:
    """Whether the question is about what happened lately (by its words)."""
    return _RECENT.search(question) is not None


def _moment(value: str) -> dt.datetime | None:
    """A stored date or timestamp as an aware datetime; a bare date counts until the end of its day."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) <= 10:  # a date without a time: the article may be from any hour of that day
        moment += dt.timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def as_of(question: str, *, newest: str | None, updated: str | None, now: dt.datetime) -> str | None:
    """The moment an answer to `question` should say the news is current as of, or None.

    `newest` is the publication date of the newest article the asker sees, `updated` the latest
    successful poll of a feed they see (else the last change of the news held), `now` aware.
    """
    if not updated:
        return None
    if asks_about_recent(question):
        return updated
    newest_at = _moment(newest) if newest else None
    if newest_at is None or now - newest_at > STALE_AFTER:
        return updated
    return None
