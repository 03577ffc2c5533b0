"""Outlet names in a question, matched against the names actually stored (never a fixed list).

The one copy of the rule: search (`query.parse_query`) favours the articles a question's outlets
published, and the answer plan (`answers/outlets.py`) turns the same mentions into a source filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME_PARTS = re.compile(r"\s+(?:\||-|–|—|:)\s+")
# Words after which any spelling names an outlet ("according to the verge").
_EXPLICIT_LEAD = re.compile(r"\b(?:according\s+to|reported\s+by)\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class OutletMention:
    outlet: str  # the stored outlet name
    start: int
    end: int


def outlet_aliases(name: str) -> list[str]:
    """Ways a question may name an outlet: "FOX News - Health" -> ["FOX News - Health", "FOX News"]."""
    aliases = [name.strip()]
    head = _NAME_PARTS.split(name.strip(), maxsplit=1)[0]
    if head and head not in aliases:
        aliases.append(head)
    if "." in head and re.fullmatch(r"[\w.-]+\.(com|net|org|co\.uk|io)", head, re.IGNORECASE):
        aliases.append(head.rsplit(".", 1)[0] if not head.lower().endswith(".co.uk") else head[:-6])
    return [a for a in aliases if len(a) >= 2]


def find_outlets(text: str, outlets: Iterable[str]) -> list[OutletMention]:
    """Mentions of stored outlet names, longest first where they overlap, in text order."""
    found: list[OutletMention] = []
    for outlet in dict.fromkeys(o for o in outlets if o):
        for alias in outlet_aliases(outlet):
            for match in _alias_pattern(alias).finditer(text):
                if _case_ok(alias, match.group("core")) or _EXPLICIT_LEAD.search(text[: match.start()]):
                    found.append(OutletMention(outlet, match.start(), match.end()))
    # A span inside a longer one ("The Independent" in "The Independent - Sports") names only the longer.
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[OutletMention] = []
    for mention in found:
        inside = any(k.start <= mention.start and mention.end <= k.end and k.outlet != mention.outlet
                     and (k.end - k.start) > (mention.end - mention.start) for k in kept)  # fmt: skip
        if not inside:
            kept.append(mention)
    return kept


def _alias_pattern(alias: str) -> re.Pattern[str]:
    core = re.sub(r"^the\s+", "", alias, flags=re.IGNORECASE)
    body = r"\s+".join(re.escape(w) for w in core.split())
    # "The" may be left out ("the Verge", "Verge reviewers"), but not before a short word: "Age of ..."
    # is not The Age.
    the = r"the\s+" if core != alias and len(core) < 5 else r"(?:the\s+)?"
    return re.compile(rf"(?<![\w.]){the}(?P<core>{body})(?![\w-]*\w)", re.IGNORECASE)


def _case_ok(alias: str, written: str) -> bool:
    """Ordinary words ("Fortune", "The Age", "Wired") only count capitalised, as names are written;
    a name with inner capitals, digits or dots ("TechCrunch", "CBSSports.com") counts in any case."""
    core = re.sub(r"^the\s+", "", alias, flags=re.IGNORECASE)
    if any(c.isupper() for w in core.split() for c in w[1:]) or re.search(r"[\d.]", core):
        return True
    return all(w[:1].isupper() or not w[:1].isalpha() for w in written.split())
