"""When to abstain: an answerability score from how close the best sentence is to the question, how
many of the question's names and rare words the retrieved passages contain. Weights and threshold
calibrated on MultiHop-RAG dev (docs/answers.md)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from .extract import Scored, has_term
from .terms import entities, words

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

    def to_json(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def entity_coverage(
    question: str, texts: Sequence[str], present: set[str] | None = None
) -> tuple[float, int]:
    """Share of the question's named entities whose words all occur in the texts (1.0 when none);
    `present` is the texts' words when already known."""
    names = entities(question)
    if not names:
        return 1.0, 0
    present = _words_of(texts) if present is None else present
    found = sum(1 for n in names if all(has_term(present, w) for w in words(n)))
    return found / len(names), len(names)


def evidence(
    question: str, scored: Sequence[Scored], texts: Sequence[str], weights: dict[str, float]
) -> Evidence:
    """The decision's inputs: `texts` are the retrieved passages with their titles and outlets,
    `weights` the IDF of the question's words."""
    best = max(scored, key=lambda s: s.cosine) if scored else None
    present = _words_of(texts)
    cover, count = entity_coverage(question, texts, present)
    missing = [w for t, w in weights.items() if not has_term(present, t)]
    total = sum(weights.values()) or 1.0
    return Evidence(
        cosine=best.cosine if best else 0.0,
        score=scored[0].score if scored else 0.0,
        entity_coverage=cover,
        entities=count,
        term_coverage=1.0 - sum(missing) / total,
        missing_idf=max(missing, default=0.0),
        lexical=max((s.lexical for s in scored), default=0.0),
    )


def _words_of(texts: Sequence[str]) -> set[str]:
    return set().union(*(words(text) for text in texts))


def answerability(
    ev: Evidence, *, entity_weight: float = ENTITY_WEIGHT, term_weight: float = TERM_WEIGHT
) -> float:
    return ev.cosine + entity_weight * ev.entity_coverage + term_weight * ev.term_coverage


def should_abstain(ev: Evidence, *, threshold: float = MIN_ANSWERABILITY, **weights: float) -> bool:
    return answerability(ev, **weights) < threshold
