"""When to abstain: an answerability score from how close the best sentence is to the question, how
many of the question's names and rare words the retrieved passages contain. Weights and threshold
calibrated on MultiHop-RAG dev (docs/answers.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .extract import Scored, has_term
from .terms import content_terms, entities, question_names, words

log = logging.getLogger(__name__)

ENTITY_WEIGHT = 0.4  # weight of the share of the question's names found in the retrieved passages
TERM_WEIGHT = 0.1  # weight of the IDF-weighted share of its words found there
MIN_ANSWERABILITY = 0.90  # best cosine + the weighted shares above, below which the bot abstains


@dataclass(frozen=True)
class Evidence:
    """What the abstention decision looks at (also logged for calibration)."""

    cosine: float  # best sentence's cosine with the question
    score: float  # best sentence's combined score
    entity_coverage: float  # share of named entities of the question found in retrieved text
    entities: int  # how many named entities the question has
    term_coverage: float = 1.0  # IDF-weighted share of the question's words found in retrieved text
    missing_idf: float = 0.0  # IDF of the rarest question word absent from retrieved text
    lexical: float = 0.0  # best sentence's IDF-weighted share of the question's words
    # One retrieved article about what the question asks (`together`): it names every name of the
    # question, and holds one of its other words (`together_word`) or a sentence this close to it.
    together_word: bool = True
    together_cosine: float = 1.0

    def to_json(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def entity_coverage(
    question: str, texts: Sequence[str], present: set[str] | None = None
) -> tuple[float, int]:
    """Share of the question's named entities found in the texts (1.0 when none); `present` is the
    texts' words when already known. A one-word name counts where running text names it, alone or at
    the end of a longer name ("Trump" in "Donald Trump"), not as the start of another ("Paris" in "Paris
    Agreement" is not Paris); in a title, where every word is capitalised, its words need only occur,
    as do the words of a longer name anywhere ("Sam" and "Bankman-Fried")."""
    names = entities(question)
    if not names:
        return 1.0, 0
    present = _words_of(texts) if present is None else present
    titled = [t for t in texts if _title_case(t)]
    named = {tuple(words(e)) for t in texts if not _title_case(t) for e in entities(t)}
    title_words = _words_of(titled)
    found = sum(
        1
        for n in map(words, names)
        if _named(tuple(n), named) or _all_in(n, title_words) or (len(n) > 1 and _all_in(n, present))
    )
    return found / len(names), len(names)


def _named(name: tuple[str, ...], named: set[tuple[str, ...]]) -> bool:
    return bool(name) and any(e[-len(name) :] == name for e in named)


def _all_in(name: list[str], present: set[str]) -> bool:
    return bool(name) and all(has_term(present, w) for w in name)


def _title_case(text: str) -> bool:
    """A headline or a name written in title case ("Amazon's iRobot Purchase Sucks Up ...")."""
    alpha = [w for w in text.split() if w[:1].isalpha()]
    return len(alpha) <= 4 or sum(w[0].isupper() for w in alpha) >= 0.6 * len(alpha)


def evidence(
    question: str,
    scored: Sequence[Scored],
    texts: Sequence[str],
    weights: dict[str, float],
    by_article: Mapping[str, Sequence[str]] | None = None,
) -> Evidence:
    """The decision's inputs: `texts` are the retrieved passages with their titles and outlets,
    `weights` the IDF of the question's words, `by_article` the same texts per article id."""
    best = max(scored, key=lambda s: s.cosine) if scored else None
    present = _words_of(texts)
    cover, count = entity_coverage(question, texts, present)
    missing = [w for t, w in weights.items() if not has_term(present, t)]
    total = sum(weights.values()) or 1.0
    word, close = together(question, by_article, scored) if by_article is not None else (True, 1.0)
    return Evidence(
        cosine=best.cosine if best else 0.0,
        score=scored[0].score if scored else 0.0,
        entity_coverage=cover,
        entities=count,
        term_coverage=1.0 - sum(missing) / total,
        missing_idf=max(missing, default=0.0),
        lexical=max((s.lexical for s in scored), default=0.0),
        together_word=word,
        together_cosine=close,
    )


def together(
    question: str, by_article: Mapping[str, Sequence[str]], scored: Sequence[Scored]
) -> tuple[bool, float]:
    """Whether a retrieved article that names every name of the question holds one of its other words
    (True when it has none), and the best cosine with the question of such an article's sentences
    (0 when no article names them all)."""
    names = question_names(question)
    asked = {w for n in names for w in words(n)}
    others = [t for t in content_terms(question) if t not in asked]
    closest: dict[str, float] = {}
    for s in scored:
        closest[s.sentence.article_id] = max(closest.get(s.sentence.article_id, 0.0), s.cosine)
    word, close = False, 0.0
    for article_id, texts in by_article.items():
        present = _words_of(texts)
        if all(entity_coverage(n, texts, present)[0] == 1.0 for n in names):
            word = word or not others or any(has_term(present, t) for t in others)
            close = max(close, closest.get(article_id, 0.0))
    return word, close


def _words_of(texts: Sequence[str]) -> set[str]:
    return set().union(*(words(text) for text in texts))


def answerability(
    ev: Evidence, *, entity_weight: float = ENTITY_WEIGHT, term_weight: float = TERM_WEIGHT
) -> float:
    return ev.cosine + entity_weight * ev.entity_coverage + term_weight * ev.term_coverage


def should_abstain(ev: Evidence, *, threshold: float = MIN_ANSWERABILITY, **weights: float) -> bool:
    return answerability(ev, **weights) < threshold
