"""Words of a question: content terms, named entities, and how rare each term is in the store."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable

from ..store import Store, query_words

_WORD = re.compile(r"[\w][\w'’.-]*\w|\w")
_NAME = r"(?:[A-Z][\w'’.-]*\w|[A-Z]\.?)"
_ENTITY = re.compile(rf"\b{_NAME}(?:\s+(?:(?:of|de|the|van|von|al|and|&)\s+)?{_NAME})*")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves whose s t don should've let's may might must shall
    according report reported reports reporting article articles news say said says tell told know
    latest recent recently new newest today yesterday week weeks month months year years ago since
    mention mentioned mentions discuss discussed discusses one two does did do done get got please show
    give me us what's who's which's whats there's""".split()  # noqa: SIM905
)


def words(text: str) -> list[str]:
    """Lower-case words, possessives dropped ("Trump's" -> "trump")."""
    found = _WORD.findall(text.casefold())
    if "'" not in text and "’" not in text:
        return found  # each word starts and ends with a word character: nothing to strip
    return [w for w in map(_without_possessive, found) if w]


def _without_possessive(word: str) -> str:
    return word[:-2].strip(".'’-") if word.endswith(("'s", "’s")) else word


def content_terms(text: str) -> list[str]:
    """Words that carry meaning: no stopwords, no one-letter words (numbers are kept)."""
    return [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def entities(text: str) -> list[str]:
    """Capitalised word runs that are not merely the first word of a sentence (rough named entities)."""
    found = []
    for match in _ENTITY.finditer(text):
        phrase = match.group().strip().rstrip(".")
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in '.!?"“:'
        if phrase.casefold() in CALENDAR:
            continue
        if " " not in phrase and ((sentence_start and _ordinary(phrase)) or phrase.casefold() in STOPWORDS):
            continue
        found.append(phrase)
    return list(dict.fromkeys(found))


CALENDAR = frozenset(
    [d.casefold() for d in (*calendar.day_name, *calendar.month_name, *calendar.month_abbr) if d] + ["sept"]
)


def _ordinary(word: str) -> bool:
    """A capitalised first word that is probably not a name."""
    low = word.casefold()
    return low in STOPWORDS or low in _QUESTION_WORDS or low.endswith(("ing", "ed", "ly"))


_QUESTION_WORDS = frozenset(
    "what who whom whose which when where why how is are was were did do does".split()  # noqa: SIM905
)


class TermStats:
    """Inverse document frequency of words over the store's passages (via the full-text index)."""

    def __init__(self, store: Store):
        self.store = store
        self._cache: dict[str, float] = {}
        self._total: int | None = None

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = max(self.store.passage_count(), 1)
        return self._total

    def idf(self, term: str) -> float:
        if term not in self._cache:
            df = self.store.document_frequency(term) if query_words(term) else self.total
            self._cache[term] = math.log(1 + self.total / (1 + df))
        return self._cache[term]

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        return {t: self.idf(t) for t in terms}
