"""What a sentence states that outlets can disagree on: figures, dates, vote tallies, names, outcomes.

A citation must support its point: the excerpt it quotes has to state every such fact of the point's
sentence ("voted 6-3" is not supported by an excerpt saying "voted 7-2", "$1.2 billion" not by "$1.4
billion", "was convicted" not by "was acquitted"). Two sentences *differ* when they state facts of the
same kind with values that neither contains the other's: then both are quoted, each with its own
citation, and the answer says the sources differ. The rules are general (numbers with their scale and
unit, percentages, money, dates, tallies, capitalised names, outcome words with their negation), not a
list of examples; wording around the facts is the embedder's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .terms import content_terms, entities, words

_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
    "trillion": 1e12, "tn": 1e12, "hundred": 1e2, "dozen": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_CURRENCY = {"$": "$", "us$": "$", "usd": "$", "dollar": "$", "dollars": "$", "€": "€", "eur": "€",
             "euro": "€", "euros": "€", "£": "£", "gbp": "£", "pound": "£", "pounds": "£", "¥": "¥",
             "yen": "¥", "yuan": "¥"}  # fmt: skip
_PERCENT = {"%", "percent", "per cent", "percentage points", "points"}
_MONTHS = ("january february march april may june july august september october november december "  # noqa: SIM905
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()  # fmt: skip
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()  # noqa: SIM905

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORDNUM = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_SCALE = "|".join(sorted(_SCALES, key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?P<cur>US\$|[$€£¥])?\s?(?P<num>{_NUM}|\b(?:{_WORDNUM})\b)"
    rf"(?:\s?-?(?P<scale>(?:{_SCALE})\b))?"
    r"(?:\s?(?P<unit>%|per ?cent\b|percentage points?\b|dollars?\b|euros?\b|pounds?\b|yen\b|yuan\b"
    r"|usd\b|eur\b|gbp\b))?",
    re.I,
)
_TALLY = re.compile(r"(?<![\d.,/-])(\d{1,2})\s?[-–—]\s?(\d{1,2})(?![\d/-]|[.,]\d|\s?(?:%|percent))")
_TALLY_TO = re.compile(r"\b(\d{1,2}) to (\d{1,2})\b")
_MONTH_DAY = re.compile(rf"\b({'|'.join(_MONTHS)})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({'|'.join(_MONTHS)})\b", re.I)
_YEAR = re.compile(r"(?<![\d,.$€£¥])\b(1[89]\d\d|20\d\d)\b(?![,.]?\d)(?!\s?(?:%|percent))")
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s?([ap])\.?m\b\.?", re.I)
_WEEKDAY = re.compile(rf"\b({'|'.join(_WEEKDAYS)})\b", re.I)
_NEGATION = re.compile(
    r"(?:\b(?:not|never|no|neither|nor|without)\b|n[’']t\b|\bfail(?:ed|s)? to\b)\W*(?:\w+\W+){0,2}$", re.I
)

# Outcome words by what they decide, with their sense: (kind, True) for the affirmative outcome.
_OUTCOMES = {
    "contest": ({"won", "win", "wins", "winning", "winner", "victory", "victorious", "beat", "beats",
                 "triumphed", "clinched"},
                {"lost", "lose", "loses", "losing", "loser", "conceded", "eliminated"}),
    "decision": ({"approved", "approve", "approves", "approval", "passed", "passes", "adopted", "adopts",
                  "accepted", "accepts", "endorsed", "upheld", "upholds", "granted", "grants", "allowed",
                  "ratified", "authorised", "authorized", "confirmed"},
                 {"rejected", "reject", "rejects", "rejection", "denied", "denies", "blocked", "blocks",
                  "vetoed", "veto", "overturned", "overturns", "dismissed", "refused", "refuses",
                  "scrapped", "withdrawn", "voted down", "struck down"}),
    "verdict": ({"guilty", "convicted", "convicts", "conviction", "convictions", "liable"},
                {"acquitted", "acquittal", "innocent", "exonerated", "not guilty", "not liable"}),
}  # fmt: skip
_OUTCOME_WORDS = {w: (kind, sense == 0) for kind, senses in _OUTCOMES.items() for sense, ws in
                  enumerate(senses) for w in ws}  # fmt: skip
_OUTCOME = re.compile(
    r"\b(" + "|".join(sorted((re.escape(w) for w in _OUTCOME_WORDS), key=len, reverse=True)) + r")\b", re.I
)
SAME_WORDING = 0.5  # share of other words two sentences need in common before a name change is a dispute


@dataclass(frozen=True)
class Facts:
    """The checkable facts of a sentence, each kind a set of normalised values."""

    quantities: frozenset[tuple[str, float]]  # (unit: "%", a currency sign or "", value with its scale)
    tallies: frozenset[tuple[int, int]]  # vote tallies and scores, "6-3", "6 to 3" in a vote
    dates: frozenset[tuple[str, str]]  # ("year" | "day" | "weekday" | "time", value)
    names: frozenset[str]  # capitalised names, case-folded
    outcomes: frozenset[tuple[str, bool]]  # (contest | decision | verdict, affirmative?)
    words: frozenset[str]  # every word, to check that a name is stated
    text: str  # the sentence itself

    def kinds(self) -> dict[str, frozenset]:
        return {
            "figure": self.quantities, "tally": self.tallies, "date": self.dates, "outcome": self.outcomes
        }  # fmt: skip


@lru_cache(maxsize=8192)
def facts(text: str) -> Facts:
    """The facts a sentence states (see the module docstring)."""
    masked, tallies = _tallies(text)
    masked, dates = _dates(masked)
    quantities = set()
    for m in _QUANTITY.finditer(masked):
        value = _value(m.group("num"))
        if value is None:
            continue
        scale = _SCALES.get((m.group("scale") or "").casefold(), 1.0)
        if m.group("scale") and m.group("scale").casefold() in {"m", "b", "k"} and not m.group("cur"):
            scale = 1.0  # "5 m" is five metres, not five million, unless it is money
        unit = (m.group("unit") or "").casefold()
        sign = _CURRENCY.get((m.group("cur") or "").casefold()) or _CURRENCY.get(unit, "")
        if unit in _PERCENT or unit.startswith("per"):
            sign = "%"
        quantities.add((sign, round(value * scale, 6)))
    return Facts(
        quantities=frozenset(quantities),
        tallies=frozenset(tallies),
        dates=frozenset(dates),
        names=frozenset(n.casefold() for n in entities(text) if not _is_calendar(n)),
        outcomes=frozenset(_outcomes(text)),
        words=frozenset(words(text)),
        text=text,
    )


def _value(raw: str) -> float | None:
    low = raw.casefold()
    if low in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[low])
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def _blank(text: str, match: re.Match) -> str:
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


def _tallies(text: str) -> tuple[str, set[tuple[int, int]]]:
    found = set()
    for m in list(_TALLY.finditer(text)):
        found.add((int(m.group(1)), int(m.group(2))))
        text = _blank(text, m)
    if re.search(r"\bvot", text, re.I):
        for m in list(_TALLY_TO.finditer(text)):
            found.add((int(m.group(1)), int(m.group(2))))
            text = _blank(text, m)
    return text, found


def _dates(text: str) -> tuple[str, set[tuple[str, str]]]:
    found = set()
    for pattern, month_first in ((_MONTH_DAY, True), (_DAY_MONTH, False)):
        for m in list(pattern.finditer(text)):
            month, day = (m.group(1), m.group(2)) if month_first else (m.group(2), m.group(1))
            if month.casefold() == "may" and month_first and not text[m.start()].isupper():
                continue  # "may 3" in running text is a verb
            found.add(("day", f"{month.casefold()[:3]} {int(day)}"))
            text = _blank(text, m)
    for m in list(_CLOCK.finditer(text)):
        found.add(("time", f"{int(m.group(1))}:{m.group(2) or '00'}{m.group(3).casefold()}"))
        text = _blank(text, m)
    for m in list(_YEAR.finditer(text)):
        found.add(("year", m.group(1)))
        text = _blank(text, m)
    for m in _WEEKDAY.finditer(text):
        found.add(("weekday", m.group(1).casefold()))
    return text, found


def _is_calendar(name: str) -> bool:
    return all(w in _MONTHS or w in _WEEKDAYS for w in words(name))


def _outcomes(text: str) -> set[tuple[str, bool]]:
    found = set()
    for m in _OUTCOME.finditer(text):
        kind, affirmative = _OUTCOME_WORDS[m.group(1).casefold()]
        if _NEGATION.search(text[: m.start()]) and " " not in m.group(1):
            affirmative = not affirmative  # "did not approve", "was never convicted"
        found.add((kind, affirmative))
    return found


# -- comparing -------------------------------------------------------------------------------------


def _name_stated(name: str, stated: frozenset[str]) -> bool:
    return set(words(name)) <= stated


def supports(excerpt: str, claim: str) -> bool:
    """Whether the excerpt states every checkable fact of the claim: its figures, tallies, dates,
    outcomes and names (a name is stated when all its words occur in the excerpt)."""
    if excerpt == claim:
        return True
    e, c = facts(excerpt), facts(claim)
    stated = e.kinds()
    if not all(values <= stated[kind] for kind, values in c.kinds().items()):
        return False
    return all(_name_stated(name, e.words) for name in c.names)


def differences(a: str, b: str) -> list[str]:
    """The kinds of fact ("figure", "tally", "date", "outcome", "name") on which two sentences
    disagree: both state that kind, and neither's values contain the other's."""
    fa, fb = facts(a), facts(b)
    found = []
    for kind, va in fa.kinds().items():
        vb = fb.kinds()[kind]
        if kind == "date":
            if any(_disjoint_sets(_of(va, k), _of(vb, k)) for k in ("year", "day", "weekday", "time")):
                found.append(kind)
        elif kind == "outcome":
            if any((k, not sense) in vb and (k, sense) not in vb for k, sense in va):
                found.append(kind)
        elif _disjoint_sets(va, vb):
            found.append(kind)
    if _names_differ(fa, fb):
        found.append("name")
    return found


def _of(values: frozenset[tuple[str, str]], kind: str) -> set[str]:
    return {v for k, v in values if k == kind}


def _disjoint_sets(a: set | frozenset, b: set | frozenset) -> bool:
    """Both state something and neither contains the other ("6-3" against "7-2")."""
    return bool(a and b and not a <= b and not b <= a)


def _names_differ(fa: Facts, fb: Facts) -> bool:
    """Each names someone the other does not, in the same place (next to the same word) and in otherwise
    much the same words: "Smith was elected mayor" against "Jones was elected mayor". A name merely
    added elsewhere ("..., the AP reported") is no dispute."""
    only_a = [n for n in fa.names if not _name_stated(n, fb.words)]
    only_b = [n for n in fb.names if not _name_stated(n, fa.words)]
    if not only_a or not only_b:
        return False
    if not any(_neighbours(fa, a) & _neighbours(fb, b) for a in only_a for b in only_b):
        return False
    named = {w for n in fa.names | fb.names for w in words(n)}
    rest_a, rest_b = set(content_terms(fa.text)) - named, set(content_terms(fb.text)) - named
    union = rest_a | rest_b
    return bool(union) and len(rest_a & rest_b) / len(union) >= SAME_WORDING


def _neighbours(f: Facts, name: str) -> set[tuple[str, str]]:
    """The words just before and after each mention of a name: ("before", w) and ("after", w)."""
    found = set()
    for m in re.finditer(re.escape(name), f.text, re.I):
        before, after = words(f.text[: m.start()])[-1:], words(f.text[m.end() :])[:1]
        found |= {("before", w) for w in before} | {("after", w) for w in after}
    return found
