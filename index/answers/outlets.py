"""Outlets named in a question ("according to The Verge", "reported by TechCrunch") become the answer's
source filter, and leave the searched words. Names are matched by `retrieval/outlets.py`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..retrieval.outlets import find_outlets as find_mentions

# The attribution words before a name and the possessive after it go with the name.
_LEAD = re.compile(
    r"\b(?:according\s+to|as\s+reported\s+by|reported\s+by|reports?\s+(?:from|by|in)|articles?\s+(?:from|by|in)|"
    r"from|by|in|at|on)\s+$",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"['’]s(?!\w)")


@dataclass(frozen=True)
class OutletMatch:
    outlets: tuple[str, ...]  # store spellings of the outlets named
    rest: str  # the question without the outlet names and their attribution words


def find_outlets(question: str, outlets: Iterable[str]) -> OutletMatch:
    """The store's outlets named in the question, and the question without them."""
    mentions = find_mentions(question, outlets)
    if not mentions:
        return OutletMatch((), question)
    keep = [True] * len(question)
    for mention in mentions:
        lead = _LEAD.search(question[: mention.start])
        start = lead.start() if lead else mention.start
        tail = _POSSESSIVE.match(question, mention.end)
        end = tail.end() if tail else mention.end
        keep[start:end] = [False] * (end - start)
    rest = "".join(c if k else " " for c, k in zip(question, keep, strict=True))
    found = tuple(dict.fromkeys(m.outlet for m in mentions))
    return OutletMatch(found, " ".join(rest.split()))
