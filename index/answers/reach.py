"""Questions no news can answer yet: about a time after the clock ("the weather tomorrow", "who won the
2030 World Cup final?"). News reports what has happened; asked what will happen, the honest answer is
that the news held cannot say, however many articles share the question's words.

A question put in the future tense about a later year ("where will the 2030 World Cup be held?") is not
declined here: what is planned or announced is news, and the usual abstention rule decides.
"""

from __future__ import annotations

import re
from datetime import date

# An outcome still to come: who will win, what will happen, tomorrow's weather.
_FORECAST = re.compile(
    r"\b(?:will|going\s+to|gonna)\s+(?:\w+\s+){0,2}?(?:win|lose|beat|happen|score|rain|snow)\b|"
    r"\bweather\b.*\b(?:will|tomorrow|next|forecast)\b|\b(?:will|tomorrow|next|forecast)\b.*\bweather\b",
    re.I,
)
_LATER = re.compile(
    r"\b(?:tomorrow|the\s+day\s+after\s+tomorrow|next\s+(?:week|weekend|month|year|season|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)|(?:later|upcoming)\s+this\s+(?:week|month))\b",
    re.I,
)
_YEAR = re.compile(r"(?<![\w$£€.,-])((?:19|20)\d\d)(?![\w%.,-]\d)")
# Words that ask about plans, expectations or schedules (which the news does report) rather than outcomes.
_PROSPECT = re.compile(
    r"\b(?:will|would|shall|going\s+to|plan(?:s|ned|ning)?|expect(?:s|ed)?|schedul\w*|due|set\s+to|"
    r"host\w*|announc\w*|predict\w*|project(?:s|ed|ion)|forecast\w*|bid\w*|upcoming|future|candidates?|"
    r"anticipat\w*|potential|possible|likely|booked|could|may|might|should|outlook|hop(?:e|es|ing))\b",
    re.I,
)


def beyond_the_news(question: str, today: date) -> str | None:
    """What the question asks about after `today` (None when it asks about the past or present): an
    outcome still to come (who will win, tomorrow's weather), or a relative time to come or a later year
    asked about as if it had happened. A question about plans, expectations or prospects is left to the
    usual rule."""
    later = _LATER.search(question)
    if _FORECAST.search(question):
        return later.group() if later else "what is still to come"
    if _PROSPECT.search(question):
        return None
    if later:
        return later.group()
    years = [m.group(1) for m in _YEAR.finditer(question) if int(m.group(1)) > today.year]
    return years[0] if years else None
