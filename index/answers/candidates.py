"""Candidate sentences: the sentences of retrieved passages, with their offsets in the article body."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..embedding.sentence_vectors import aligned
from ..engine import Engine
from ..models import Article, Hit
from ..text import sentence_spans

log = logging.getLogger(__name__)

MIN_WORDS = 5  # shorter "sentences" are headings, bylines or captions
MAX_CHARS = 600  # longer ones are run-on paragraphs (live blogs, lists) that read badly as a quote


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article: `text == body[start:end]` of the article `article_id`."""

    article_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    start: int
    end: int
    text: str
    passage_score: float = 0.0
    position: int = 0  # index of the sentence in its article
    also_reported_by: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.article_id, self.start, self.end)

    def with_score(self, passage_score: float) -> Sentence:
        return replace(self, passage_score=passage_score)


def readable(text: str) -> bool:
    words = text.split()
    return len(words) >= MIN_WORDS and len(text) <= MAX_CHARS and any(c.islower() for c in text)


def article_sentences(article: Article, *, passage_score: float = 0.0) -> list[Sentence]:
    """Every readable sentence of an article, in order."""
    out = []
    for position, (start, end) in enumerate(sentence_spans(article.body)):
        text = article.body[start:end]
        if readable(text):
            out.append(_sentence(article, start, end, position, passage_score))
    return out


def _sentence(article: Article, start: int, end: int, position: int, score: float, also=()) -> Sentence:
    return Sentence(
        article_id=article.id,
        title=article.title,
        source=article.source,
        url=article.url,
        published=article.published,
        start=start,
        end=end,
        text=article.body[start:end],
        passage_score=score,
        position=position,
        also_reported_by=tuple(also),
    )


class ArticleCache:
    """Articles (and their sentence spans) read once per answer."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._articles: dict[str, Article | None] = {}
        self._spans: dict[str, list[tuple[int, int]]] = {}

    def put(self, article: Article) -> None:
        self._articles[article.id] = article

    def get(self, article_id: str) -> Article | None:
        if article_id not in self._articles:
            self._articles[article_id] = self.engine.article(article_id)
        return self._articles[article_id]

    def spans(self, article: Article) -> list[tuple[int, int]]:
        if article.id not in self._spans:
            self._spans[article.id] = sentence_spans(article.body)
        return self._spans[article.id]


def hit_sentences(hits: Iterable[Hit], articles: ArticleCache) -> list[Sentence]:
    """The readable sentences of the hits' passages, once each, scored by their best passage."""
    found: dict[tuple[str, int, int], Sentence] = {}
    for hit in hits:
        article = articles.get(hit.article_id)
        if article is None or article.body[hit.start : hit.end] != hit.excerpt:
            log.warning("passage %s no longer matches its article; skipped", hit.chunk_id)
            continue
        for position, (start, end) in _within(articles.spans(article), article.body, hit.start, hit.end):
            text = article.body[start:end]
            key = (article.id, start, end)
            if not readable(text) or (key in found and found[key].passage_score >= hit.score):
                continue
            found[key] = _sentence(article, start, end, position, hit.score, hit.also_reported_by)
    return list(found.values())


def pooled_vectors(hits: Iterable[Hit], engine: Engine) -> dict[tuple[str, int, int], np.ndarray]:
    """`Sentence.key` -> the sentence's vector pooled when its passage was embedded (where stored),
    through the embedder's map towards sentences' own vectors when it has one."""
    hits = list(hits)
    stored = engine.sentence_vectors([h.chunk_id for h in hits])
    found = {
        (hit.article_id, hit.start + start, hit.start + end): vector
        for hit in hits
        for (start, end), vector in stored.get(hit.chunk_id, {}).items()
    }
    matrix = getattr(engine.embedder, "sentence_map", None)
    if matrix is None or not found:
        return found
    return dict(zip(found, aligned(np.stack(list(found.values())), matrix), strict=True))


def _within(
    spans: list[tuple[int, int]], body: str, start: int, end: int
) -> list[tuple[int, tuple[int, int]]]:
    """(sentence index in the article, span) of the sentences inside body[start:end]; a passage cut
    inside one long sentence yields its own pieces."""
    inside = [(i, s) for i, s in enumerate(spans) if s[0] >= start and s[1] <= end]
    if inside:
        return inside
    first = next((i for i, s in enumerate(spans) if s[1] > start), 0)
    return [(first + j, s) for j, s in enumerate(sentence_spans(body, start, end))]


def copies_of(s: Sentence, engine: Engine, limit: int = 2) -> list[Sentence]:
    """The same sentence in other outlets' copies of the story (stored near-duplicates), verbatim."""
    if not s.also_reported_by:
        return []
    found = []
    for copy in engine.copies_of(s.article_id):
        at = copy.body.find(s.text)
        if at >= 0 and copy.source != s.source:
            found.append(_sentence(copy, at, at + len(s.text), -1, s.passage_score))
        if len(found) >= limit:
            break
    return found
