"""Outlets named in a question ("according to The Verge", "reported by TechCrunch"), matched against
the outlets present in the store."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_HEAD = re.compile(r"\s+[|:–—-]\s+")
_ATTRIBUTION = (
    r"(?:(?:according to|as reported by|reported by|reports? (?:from|by|in)|articles? (?:from|by|in)|"
    r"from|by|in|at|on)\s+)?"
)


@dataclass(frozen=True)
class OutletMatch:
    outlets: tuple[str, ...]  # store spellings of the outlets named
    rest: str  # the question without the outlet names and their attribution words


def aliases(outlet: str) -> list[str]:
    """Ways a question may name an outlet, longest first: the full name, its head before a separator
    ("Cnbc | World Business News Leader" -> "Cnbc"), without ".com", and without a leading "The"."""
    names = {outlet.strip(), _HEAD.split(outlet.strip())[0]}
    names |= {re.sub(r"\.(com|org|net|co\.uk)$", "", n, flags=re.I) for n in names}
    names |= {b for n in names if (b := re.sub(r"^the\s+", "", n, flags=re.I)) != n and len(b) >= 5}
    return sorted((n for n in names if len(n) >= 3), key=lambda n: (-len(n), n))


def _distinctive(alias: str) -> bool:
    """A name no ordinary word could be ("TechCrunch", "CBSSports.com"): matched in any case."""
    return (any(c.isupper() for c in alias[1:].replace(" ", "")) and " " not in alias) or "." in alias


def _same_capitals(found: str, alias: str) -> bool:
    """Ordinary-word names must keep their capitals ("The Age", not "the age of AI")."""
    fw, aw = found.split(), alias.split()
    if len(fw) != len(aw):
        return False
    pairs = list(zip(fw, aw, strict=True))
    if aw[0].lower() == "the":
        pairs = pairs[1:]
    return all(f[0] == a[0] for f, a in pairs)


def _find(question: str, alias: str) -> re.Match | None:
    name = re.escape(alias).replace(r"\ ", r"\s+")
    pattern = re.compile(rf"{_ATTRIBUTION}(?<![\w.])(?P<name>{name})(?:['’]s)?(?!\w)", re.I)
    for match in pattern.finditer(question):
        if _distinctive(alias) or _same_capitals(match.group("name"), alias) or _explicit(match):
            return match
    return None


def _explicit(match: re.Match) -> bool:
    """Named after "according to" or "reported by": an outlet whatever its capitals."""
    lead = match.group()[: match.start("name") - match.start()].lower()
    return lead.startswith(("according", "as reported", "reported"))


def find_outlets(question: str, outlets: Iterable[str]) -> OutletMatch:
    """The store's outlets named in the question, and the question without them."""
    spans: list[tuple[int, int, str]] = []
    for outlet in outlets:
        for alias in aliases(outlet):
            match = _find(question, alias)
            if match:
                spans.append((match.start(), match.end(), outlet))
                break
    if not spans:
        return OutletMatch((), question)
    keep = [True] * len(question)
    for start, end, _ in spans:
        keep[start:end] = [False] * (end - start)
    rest = "".join(c if k else " " for c, k in zip(question, keep, strict=True))
    found = tuple(dict.fromkeys(o for _, _, o in sorted(spans)))
    return OutletMatch(found, " ".join(rest.split()))
