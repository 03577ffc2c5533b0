"""Extractive summaries: of one article, of a topic across articles, and a digest of a period."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import numpy as np

from ..engine import Engine
from ..models import Article, Summary
from . import abstain, cite, extract
from .candidates import ArticleCache, Sentence, article_sentences, hit_sentences
from .cluster import Story, group_stories
from .dates import intersect
from .plan import make_plan, today
from .terms import TermStats

log = logging.getLogger(__name__)

ARTICLE_POINTS = 5
EMBED_LIMIT = 3500  # characters of points and markers a Discord embed description can hold
TOPIC_POINTS = 6
TOPIC_K = 24
PERIOD_STORIES = 6
PERIOD_ARTICLES = 400  # newest articles of a period considered for the digest
LEAD_WEIGHT = 0.3  # news puts the key facts first
MAX_SENTENCES = 120  # sentences of a long article (a live blog, a list) weighed for its summary


def _empty(kind: str, title: str) -> Summary:
    return Summary(kind=kind, title=title, points=(), citations=())


# -- one article -------------------------------------------------------------------------------


def summarize_article(
    engine: Engine, article_id: str, *, max_points: int = ARTICLE_POINTS, max_chars: int = EMBED_LIMIT
) -> Summary | None:
    """The article's key sentences in its own order, each cited; None if there is no such article."""
    article = engine.article(article_id)
    if article is None:
        return None
    chosen = key_sentences(engine, article, max_points=max_points, max_chars=max_chars)
    cache = ArticleCache(engine)
    cache.put(article)
    points, citations = cite.number([[s] for s in chosen], cache.get)
    cite.check(points, citations, cache.get)
    return Summary("article", article.title, points, citations)


def key_sentences(engine: Engine, article: Article, *, max_points: int, max_chars: int) -> list[Sentence]:
    sentences = article_sentences(article)[:MAX_SENTENCES]
    if not sentences:
        return []
    vectors = extract.embed_cached(engine.embedder, [article.title, *(s.text for s in sentences)])
    title, body = vectors[0], vectors[1:]
    centroid = body.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    lead = np.array([1.0 / (1.0 + i / 3.0) for i in range(len(sentences))])
    scores = 0.4 * (body @ centroid) + 0.3 * (body @ title) + LEAD_WEIGHT * lead
    chosen: list[int] = []
    used = 0
    for i in np.argsort(-scores, kind="stable"):
        cost = len(cite.display(sentences[i].text)) + 8
        if len(chosen) >= max_points or used + cost > max_chars:
            break
        if all(float(body[i] @ body[j]) < extract.REDUNDANT for j in chosen):
            chosen.append(int(i))
            used += cost
    return [sentences[i] for i in sorted(chosen)]


# -- a topic -----------------------------------------------------------------------------------


def summarize_topic(
    engine: Engine,
    topic: str,
    *,
    since: str | None = None,
    until: str | None = None,
    sources: Iterable[str] | None = None,
    now: date | datetime | str | None = None,
    max_points: int = TOPIC_POINTS,
) -> Summary:
    """Key points about a subject across articles (one point per article), oldest first; no points when
    the news held says nothing about it."""
    plan = make_plan(engine, topic, since=since, until=until, sources=sources, now=now)
    topic = plan.question  # cleaned like any question
    hits = engine.search(plan.query, k=TOPIC_K, since=plan.since, until=plan.until, sources=plan.sources)
    cache = ArticleCache(engine)
    pool = hit_sentences(hits, cache)
    stats = TermStats(engine.store)
    scored = extract.score_sentences(plan.query, pool, engine.embedder, stats)
    texts = [t for h in hits for t in (h.excerpt, h.title, h.source or "")]
    evidence = abstain.evidence(plan.query, scored, texts, extract.query_weights(plan.query, stats))
    if not scored or abstain.should_abstain(evidence):
        return _empty("topic", topic)
    drafts = extract.select(scored, max_points=max_points, per_article=1, floor=extract.TOPIC_FLOOR)
    drafts.sort(key=lambda d: (d.lead.sentence.published or "", d.lead.sentence.article_id))
    points, citations = cite.number([d.sentences for d in drafts], cache.get)
    cite.check(points, citations, cache.get)
    return Summary("topic", topic, points, citations)


# -- a period ----------------------------------------------------------------------------------

_PERIOD = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.I)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def period_range(period: str, now: date | datetime | str | None = None) -> tuple[str, str]:
    """ "1d" -> today only, "7d" -> the last 7 days including today, also "2w", "1m", "1y"."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"a period is a number and a unit (d, w, m or y), like 1d or 7d: not {period!r}")
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
    if days < 1:
        raise ValueError("a period lasts at least one day")
    end = today(now)
    return (end - timedelta(days=days - 1)).isoformat(), end.isoformat()


def summarize_period(
    engine: Engine,
    period: str = "1d",
    *,
    since: str | None = None,
    until: str | None = None,
    sources: Iterable[str] | None = None,
    now: date | datetime | str | None = None,
    max_stories: int = PERIOD_STORIES,
) -> Summary:
    """The period's stories grouped by topic, biggest first: a headline and one or two cited sentences
    each (the headline is the `heading` of the story's first point)."""
    start, end = period_range(period, now)
    start, end = intersect(since, start, later=True), intersect(until, end, later=False)
    articles = engine.articles(since=start, until=end, sources=sources, limit=PERIOD_ARTICLES)
    title = f"News from {start} to {end}" if start != end else f"News of {start}"
    stories = group_stories(engine, articles)[:max_stories]
    if not stories:
        return _empty("period", title)
    cache = ArticleCache(engine)
    for a in articles:
        cache.put(a)
    groups, headings = _story_points(stories)
    points, citations = cite.number(groups, cache.get, headings=headings)
    cite.check(points, citations, cache.get)
    return Summary("period", title, points, citations)


def _story_points(stories: Sequence[Story]) -> tuple[list[list[Sentence]], list[str | None]]:
    groups: list[list[Sentence]] = []
    headings: list[str | None] = []
    for story in stories:
        for i, sentence in enumerate(story.sentences[:2]):
            groups.append([sentence])
            headings.append(story.headline if i == 0 else None)
    return groups, headings
