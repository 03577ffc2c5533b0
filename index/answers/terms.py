"""Words of a question: content terms, named entities, and how rare each term is in the store."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Protocol

from ..storage.fulltext import query_words
from ..words import CALENDAR_WORDS, FUNCTION_WORDS

_WORD = re.compile(r"[\w][\w'’.-]*\w|\w")
_NAME = r"(?:[A-Z][\w'’.-]*\w|[A-Z]\.?)"
_ENTITY = re.compile(rf"\b{_NAME}(?:\s+(?:(?:of|de|the|van|von|al|and|&)\s+)?{_NAME})*")

STOPWORDS = FUNCTION_WORDS | frozenset(
    # and the words a question about the news uses around its topic
    """either whose s t don should've let's may might must shall
    according report reported reports reporting article articles news say said says tell told know
    latest recent recently new newest today yesterday week weeks month months year years ago since
    mention mentioned mentions discuss discussed discusses one two done get got please show
    give us what's who's which's whats there's""".split()  # noqa: SIM905
)
# Words of a question that asks for the news in general rather than about something.
GENERAL_NEWS_WORDS = frozenset(
    """happen happened happening happens going stories story headlines headline top biggest main big
    anything everything important events event what's whats up""".split()  # noqa: SIM905
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


CALENDAR = CALENDAR_WORDS


def question_names(question: str) -> list[str]:
    """The names a question asks about: its `entities`, without a capitalised question word that opens
    the question ("Did Sam Bankman-Fried ..." names Sam Bankman-Fried)."""
    found = []
    for name in entities(question):
        parts = name.split()
        while len(parts) > 1 and parts[0].casefold() in _QUESTION_WORDS:
            parts = parts[1:]
        found.append(" ".join(parts))
    return list(dict.fromkeys(found))


def _ordinary(word: str) -> bool:
    """A capitalised first word that is probably not a name."""
    low = word.casefold()
    return low in STOPWORDS or low in _QUESTION_WORDS or low.endswith(("ing", "ed", "ly"))


_QUESTION_WORDS = frozenset(
    "what who whom whose which when where why how is are was were did do does".split()  # noqa: SIM905
)


class Frequencies(Protocol):
    """What term statistics read: the engine (or its store)."""

    def passage_count(self) -> int: ...

    def document_frequency(self, text: str) -> int: ...


class TermStats:
    """Inverse document frequency of words over the store's passages (via the full-text index)."""

    def __init__(self, store: Frequencies):
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
