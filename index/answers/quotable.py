"""Which sentences an answer may quote: statements about the news, not questions nor the page talking
to its reader.

Two general rules rather than a list of phrases:

- **Questions** (a sentence ending in "?", a quoted question included) ask, they do not answer; a headline
  put as a question ("Who is Sam Bankman-Fried, the former CEO of FTX?") is one of them.
- **Calls to action** — the page addressing its reader: a sentence that opens with an imperative of what
  pages ask readers to do (watch, stream, read, sign up, subscribe, follow, click, scroll, download, claim,
  bet, ...) and points at a medium, a place on the page or an offer ("on Stan Sport", "below", "here",
  "our newsletter", "the app", "this link", "promo code"); the page's own furniture wherever it stands
  ("sign up for our newsletter", "scroll down for video", "click here", "all rights reserved", "this story
  originally appeared in"); a line carrying a web address or an embedded post's link. A statement that
  merely mentions watching or reading ("Millions watched the final on TV") is neither: it has a subject.
"""

from __future__ import annotations

import re

_QUESTION = re.compile(r"\?[\s\"'’”)\]»]*$")

# What pages ask of their readers, as the first word of a sentence (after "please", "don't forget to" ...).
_ACTIONS = """watch|stream|listen|read|click|tap|scroll|sign|subscribe|follow|download|join|visit|register|
    claim|bet|shop|save|buy|get|grab|check|see|find|learn|discover|share|tune|catch|email|contact|stay|
    explore|bookmark|try|donate|unlock|redeem"""
_OPENING = re.compile(
    rf"^[^\w\"“'‘]*(?:(?:please|now|also|so|then|and|or|just|simply)[\s,]+)?"
    rf"(?:(?:don['’]t|do\s+not)\s+forget\s+to\s+|be\s+sure\s+to\s+|make\s+sure\s+(?:to|you)\s+)?"
    rf"(?P<verb>(?:don['’]t|do\s+not)\s+miss|{'|'.join(_ACTIONS.replace('|', ' ').split())})\b",
    re.I | re.X,
)
# Where a call to action sends the reader: a medium, a place on the page, the outlet itself or an offer.
_TARGET = re.compile(
    r"""\b(?:on|at|via|with|from|through)\s+(?:the\s+home\s+of|[A-Z#][\w#.'’-]*)|
    (?i:\b(?:here|below|above|now|today|online|live|instantly|free)\b|
    \b(?:our|us)\b|
    \b(?:app|apps|newsletter|newsletters|inbox|podcast|podcasts|video|videos|channel|site|website|page|
    link|links|feed|coverage|updates|stream|broadcast|highlights|replay|full\s+story|full\s+review|
    promo|code|codes|bonus|bonuses|offer|offers|deal|deals|coupon|discount|odds|sportsbook|account|
    subscription|ticket|tickets|store)\b)""",
    re.X,
)
# The page's own furniture, wherever it stands in the sentence.
_FURNITURE = re.compile(
    r"""\b(?:(?:sign(?:ing)?[\s-]up|subscribe)\s+(?:for|to)\s+(?:our|my)\b|sign\s+up\s+(?:now|here|today)|
    click\s+(?:here|the\s+link|below)|tap\s+(?:here|the\s+link|below)|scroll\s+(?:down|up)\s+(?:for|to)|
    (?:follow|find)\s+(?:us|me)\s+on|download\s+(?:the|our)\s+\w*\s*app|(?:story|article|post|piece|
    version\s+of\s+this\s+\w+)\s+(?:first|originally)\s+(?:appeared|published|ran)|originally\s+
    (?:appeared|published)\s+(?:in|on|at)|all\s+rights\s+reserved|(?:by\s+)?submitting\s+your\s+email|
    our\s+(?:privacy|terms)|stay\s+tuned|(?:use|with)\s+(?:our\s+)?(?:promo|bonus)\s+code|
    for\s+more\s+(?:news|stories|coverage|on\s+this)|(?:delivered|straight)\s+to\s+your\s+inbox|
    advertisement)\b""",
    re.I | re.X,
)
_ADDRESS = re.compile(r"https?://|www\.\w|pic\.twitter\.com|\bt\.co/", re.I)


def is_question(text: str) -> bool:
    """A sentence that asks (it ends with a question mark, closing quotes or brackets aside)."""
    return bool(_QUESTION.search(text.strip()))


def is_call_to_action(text: str) -> bool:
    """The page addressing its reader (see the module's docstring): promotion or navigation."""
    stripped = text.strip()
    if _FURNITURE.search(stripped) or _ADDRESS.search(stripped):
        return True
    opening = _OPENING.match(stripped)
    return bool(opening and _TARGET.search(stripped, opening.end()))


def quotable(text: str) -> bool:
    """A sentence an answer may quote: a statement, not a question nor a call to action."""
    return not (is_question(text) or is_call_to_action(text))
