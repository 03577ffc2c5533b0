"""When to abstain: an answerability score from how close the best sentence is to the question, how
many of the question's names and rare words the retrieved passages contain. Weights and threshold
calibrated on MultiHop-RAG dev (docs/answers.md).

A short question (fewer than SHORT content words) asks about one story, and its best sentence counts only
if it is about what the question names (`subject_cosine`): a sentence naming one of the question's
names, in its text or its article's title, in an article that names all of them. "What did Taylor Swift
say about Travis Kelce?" on news naming each apart, or "What is the weather in Paris?" on news holding a
film set in Paris and the Paris accord, have no such sentence close to the question."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .extract import Scored, has_term
from .terms import content_terms, entities, question_names, words

log = logging.getLogger(__name__)

ENTITY_WEIGHT = 0.4  # weight of the share of the question's names found in the retrieved passages
TERM_WEIGHT = 0.1  # weight of the IDF-weighted share of its words found there
MIN_ANSWERABILITY = 0.90  # best cosine + the weighted shares above, below which the bot abstains
SHORT = 10  # a question of fewer content words asks about one story (MultiHop-RAG's have 10 or more)


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
    subject_cosine: float = 1.0  # the best cosine of a sentence about what the question names
    terms: int = SHORT  # how many content words the question has

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
    names_in = namer(texts, present)
    found = sum(1 for n in names if names_in(n))
    return found / len(names), len(names)


def namer(texts: Sequence[str], present: set[str] | None = None) -> Callable[[str], bool]:
    """Whether the texts name a name, by the rules of `entity_coverage`."""
    present = _words_of(texts) if present is None else present
    titled = [t for t in texts if _title_case(t)]
    named = {tuple(words(e)) for t in texts if not _title_case(t) for e in entities(t)}
    title_words = _words_of(titled)

    def names_in(name: str) -> bool:
        n = words(name)
        return _named(tuple(n), named) or _all_in(n, title_words) or (len(n) > 1 and _all_in(n, present))

    return names_in


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
    subject = subject_cosine(question, by_article, scored) if by_article is not None else 1.0
    return Evidence(
        cosine=best.cosine if best else 0.0,
        score=scored[0].score if scored else 0.0,
        entity_coverage=cover,
        entities=count,
        term_coverage=1.0 - sum(missing) / total,
        missing_idf=max(missing, default=0.0),
        lexical=max((s.lexical for s in scored), default=0.0),
        subject_cosine=subject,
        terms=len(content_terms(question)),
    )


def subject_cosine(question: str, by_article: Mapping[str, Sequence[str]], scored: Sequence[Scored]) -> float:
    """The best cosine with the question of a sentence about what it names: one naming a name of the
    question (in its text or its article's title) in an article whose retrieved passages, title and
    outlet name all of them (any sentence when the question names nothing; 0 when none is left)."""
    names = question_names(question)
    if not names:
        return max((s.cosine for s in scored), default=0.0)
    together = {a for a, texts in by_article.items() if all(map(namer(texts), names))}
    return max(
        (
            s.cosine
            for s in scored
            if s.sentence.article_id in together
            and any(map(namer([s.sentence.text, s.sentence.title]), names))
        ),
        default=0.0,
    )


def _words_of(texts: Sequence[str]) -> set[str]:
    return set().union(*(words(text) for text in texts))


def answerability(
    ev: Evidence, *, entity_weight: float = ENTITY_WEIGHT, term_weight: float = TERM_WEIGHT
) -> float:
    cosine = min(ev.cosine, ev.subject_cosine) if ev.terms < SHORT else ev.cosine
    return cosine + entity_weight * ev.entity_coverage + term_weight * ev.term_coverage


def should_abstain(ev: Evidence, *, threshold: float = MIN_ANSWERABILITY, **weights: float) -> bool:
    return answerability(ev, **weights) < threshold
