"""Whether an article is about a topic: the rule topic alerts, `alerts test` and the calibration share.

A topic is a few words a person would type ("interest rates", "SpaceX launches"). An article is about it
when (1) it says the topic's words (lexical evidence: every content word, stemmed as the keyword index
stems them, occurs in its title or text) and (2) its best passage is close to the topic in the
embedder's space (the passages' stored vectors; the topic is embedded once), the score rising with how
often the topic's least mentioned word occurs and whether the title names it. The weights and the
threshold were calibrated on labelled dev topics for a precision of at least 0.9 (benchmarks/
alerts_calibration.py; figures in docs/alerts.md): a wrong alert costs more than a late one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..engine import Engine
from ..models import Article
from ..storage.fulltext import Tokenizer
from ..text import sentence_spans
from ..words import FUNCTION_WORDS


@dataclass(frozen=True)
class Rule:
    """score = best passage cosine + least_weight * min(mentions of the least mentioned topic word,
    MENTIONS_CAP) / MENTIONS_CAP + title_weight * share of the topic's words in the title; a match
    needs `min_coverage` of the topic's words and a score of at least `threshold`."""

    least_weight: float
    title_weight: float
    min_coverage: float
    threshold: float


MENTIONS_CAP = 3
# Calibrated on the dev topics for precision >= 0.9 (docs/alerts.md, 2026-12-03).
RULE = Rule(least_weight=0.2, title_weight=0.4, min_coverage=1.0, threshold=0.96)

MAX_TOPIC_CHARS = 100
MAX_TOPIC_WORDS = 8
EXCERPT_CANDIDATES = 24  # sentences embedded to find the one or two that best match
MIN_EXCERPT_WORDS = 7  # shorter sentences are headings, captions or fragments
MAX_EXCERPT_CHARS = 500  # two sentences are quoted together only within this
_WORD = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"\s+")


@cache
def _tokenizer() -> Tokenizer:
    return Tokenizer()  # FTS5's own stemmer, made on first use (one in-memory table per process)


def _tokens(words: list[str]) -> list[str]:
    return _tokenizer()(words)


class TopicError(ValueError):
    """A topic that cannot be followed (empty, too long, only function words)."""


def clean_topic(text: str) -> str:
    """The topic as it is stored and shown (spaces collapsed); TopicError says what is wrong with it."""
    topic = _SPACE.sub(" ", text or "").strip()
    if not topic:
        raise TopicError("a topic needs a few words, such as 'interest rates' or 'SpaceX launches'")
    if len(topic) > MAX_TOPIC_CHARS:
        raise TopicError(f"a topic is at most {MAX_TOPIC_CHARS} characters ({len(topic)} given)")
    words = _WORD.findall(topic)
    if len(words) > MAX_TOPIC_WORDS:
        raise TopicError(
            f"a topic is at most {MAX_TOPIC_WORDS} words ({len(words)} given): keep the key ones"
        )
    if not topic_terms(topic):
        raise TopicError(f"'{topic}' has no word that names a subject: name what the news is about")
    return topic


def topic_key(topic: str) -> str:
    """What makes two topics the same (case and spacing aside)."""
    return _SPACE.sub(" ", topic).strip().casefold()


def topic_terms(topic: str) -> tuple[str, ...]:
    """The topic's content words as the keyword index's terms (stemmed), without function words."""
    words = [w for w in _WORD.findall(topic.lower()) if w not in FUNCTION_WORDS]
    return tuple(dict.fromkeys(t for t in _tokens(words) if t))


def term_counts(text: str) -> Counter:
    return Counter(_tokens(_WORD.findall(text.lower())))


@dataclass(frozen=True)
class Evidence:
    """What the rule reads of one (topic, article) pair."""

    coverage: float  # share of the topic's terms found in the title or text
    least: int  # occurrences of the least mentioned term (0 when one is missing)
    in_title: float  # share of the topic's terms in the title
    similarity: float  # best cosine of the topic's vector with the article's passage vectors

    def score(self, rule: Rule = RULE) -> float:
        mentions = min(self.least, MENTIONS_CAP) / MENTIONS_CAP
        return self.similarity + rule.least_weight * mentions + rule.title_weight * self.in_title

    def matches(self, rule: Rule = RULE) -> bool:
        return self.coverage >= rule.min_coverage and self.score(rule) >= rule.threshold


class ArticleText:
    """One article's terms and passage vectors, read once for every topic it is scored against."""

    def __init__(self, engine: Engine, article: Article):
        self.article = article
        self.title_terms = term_counts(article.title or "")
        self.terms = self.title_terms + term_counts(article.body)
        self.vectors = engine.store.alerts.passage_vectors(article.id)

    def evidence(self, terms: Sequence[str], vector: np.ndarray | None) -> Evidence:
        counts = [self.terms.get(t, 0) for t in terms]
        found = sum(1 for c in counts if c)
        similarity = 0.0
        if vector is not None and len(self.vectors) and self.vectors.shape[1] == vector.shape[0]:
            similarity = float((self.vectors @ vector).max())
        return Evidence(
            coverage=found / len(terms) if terms else 0.0,
            least=min(counts) if counts else 0,
            in_title=sum(1 for t in terms if self.title_terms.get(t)) / len(terms) if terms else 0.0,
            similarity=similarity,
        )


def _quotable(sentence: str) -> bool:
    """A statement of a few words: not a question, a heading or a fragment ("He was there, too.")."""
    return len(sentence.split()) >= MIN_EXCERPT_WORDS and not sentence.rstrip(" \"'”’)").endswith("?")


def excerpt(engine: Engine, article: Article, terms: Sequence[str], vector: np.ndarray) -> tuple[int, int]:
    """The one or two sentences of the body that best match the topic: (start, end), body[start:end]
    verbatim. Sentences naming a topic word are preferred; the best is joined by its neighbour when
    that one matches almost as well and both fit MAX_EXCERPT_CHARS."""
    body = article.body
    spans = [span for span in sentence_spans(body) if _quotable(body[span[0] : span[1]])] or sentence_spans(
        body
    )
    if not spans:
        return 0, len(body)
    hits = [sum(1 for t in terms if term_counts(body[s:e]).get(t)) for s, e in spans]
    order = sorted(range(len(spans)), key=lambda i: (-hits[i], i))[:EXCERPT_CANDIDATES]
    vectors = engine.embedder.embed([body[spans[i][0] : spans[i][1]] for i in order])
    scores = {
        i: float(v @ vector) + 0.1 * hits[i] / max(len(terms), 1) for i, v in zip(order, vectors, strict=True)
    }
    best = max(scores, key=scores.__getitem__)
    start, end = spans[best]
    for other in (best + 1, best - 1):
        if other in scores and scores[other] >= scores[best] - 0.05:
            s, e = min(start, spans[other][0]), max(end, spans[other][1])
            if e - s <= MAX_EXCERPT_CHARS:
                return s, e
    return start, end
