"""Extractive summaries: of one article, of a topic across articles, and a digest of a period."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Unpack

from ..embedding.embedder import Embedder
from ..engine import Engine
from ..models import Article, Summary
from . import abstain, cite, coverage, extract, support
from .candidates import ArticleCache, Sentence, article_sentences, hit_sentences
from .cluster import Story, group_stories
from .dates import intersect
from .plan import Asked, make_plan, today
from .terms import TermStats

log = logging.getLogger(__name__)

ARTICLE_POINTS = 3  # the outlets' own highlights are three or four short sentences
MAX_POINTS = 10  # the most points a summary may be asked for (a length option)
EMBED_LIMIT = 3500  # characters of points and markers a Discord embed description can hold
TOPIC_POINTS = 6
TOPIC_K = 24
PERIOD_STORIES = 6
PERIOD_ARTICLES = 400  # newest articles of a period considered for the digest
DEEP_FLOOR = 0.45  # share of the best score a topic's further points from the same articles need
MAX_SENTENCES = 120  # sentences of a long article (a live blog, a list) weighed for its summary


def _empty(kind: str, title: str) -> Summary:
    return Summary(kind=kind, title=title, points=(), citations=())


def check_points(max_points: int) -> int:
    if not 1 <= max_points <= MAX_POINTS:
        raise ValueError(f"a summary has 1 to {MAX_POINTS} points, not {max_points}")
    return max_points


# -- one article -------------------------------------------------------------------------------


def summarize_article(
    engine: Engine,
    article_id: str,
    *,
    max_points: int = ARTICLE_POINTS,
    max_chars: int = EMBED_LIMIT,
    viewer: str | None = None,
) -> Summary | None:
    """The article's key sentences in its own order, each cited; None if there is no such article
    (that `viewer` may see)."""
    check_points(max_points)
    engine = engine.viewed_by(viewer)
    article = engine.article(article_id)
    if article is None:
        return None
    chosen = key_sentences(engine.embedder, article, max_points=max_points, max_chars=max_chars)
    cache = ArticleCache(engine)
    cache.put(article)
    points, citations = cite.number([[s] for s in chosen], cache.get)
    cite.check(points, citations, cache.get)
    return Summary("article", article.title, points, citations)


def key_sentences(
    embedder: Embedder, article: Article, *, max_points: int = ARTICLE_POINTS, max_chars: int = EMBED_LIMIT
) -> list[Sentence]:
    """The sentences that together cover the article best (coverage.py), in the article's order."""
    readable = article_sentences(article)
    sentences = [s for s in readable if coverage.summarizable(s.text)] or readable
    sentences = sentences[:MAX_SENTENCES]
    if not sentences:
        return []
    vectors = extract.embed_cached(embedder, [s.text for s in sentences])
    costs = [len(cite.display(s.text)) + 8 for s in sentences]
    lengths = [len(s.text.split()) for s in sentences]
    chosen = coverage.select(vectors, max_points=max_points, costs=costs, budget=max_chars, lengths=lengths)
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
    viewer: str | None = None,
) -> Summary:
    """Key points about a subject, grouped by story (biggest first; the first point of each story has
    its headline and outlets as `heading`), oldest first within a story; no points when the news held
    says nothing about it."""
    check_points(max_points)
    engine = engine.viewed_by(viewer)
    topic, scored, cache = topic_evidence(engine, topic, since=since, until=until, sources=sources, now=now)
    if not scored:
        return _empty("topic", topic)
    drafts, _ = support.settle(_topic_drafts(scored, max_points), scored)
    groups, headings = _by_story(engine, drafts, cache)
    groups, _ = support.with_copies(groups, engine, limit=0)
    points, citations = cite.number(groups, cache.get, headings=headings)
    cite.check(points, citations, cache.get)
    return Summary("topic", topic, points, citations)


def topic_evidence(
    engine: Engine, topic: str, **asked: Unpack[Asked]
) -> tuple[str, list[extract.Scored], ArticleCache]:
    """The topic (cleaned like any question) and the sentences of the news about it, best first; none
    when the news held does not cover it. `engine` is the viewer's (Engine.viewed_by)."""
    plan = make_plan(engine, topic, **asked)
    hits = engine.search(plan.query, k=TOPIC_K, since=plan.since, until=plan.until, sources=plan.sources)
    cache = ArticleCache(engine)
    pool = [s for s in hit_sentences(hits, cache) if coverage.summarizable(s.text)]
    stats = TermStats(engine)
    scored = extract.score_sentences(plan.query, pool, engine.embedder, stats)
    texts = [t for h in hits for t in (h.excerpt, h.title, h.source or "")]
    evidence = abstain.evidence(plan.query, scored, texts, extract.query_weights(plan.query, stats))
    if not scored or abstain.should_abstain(evidence):
        return plan.question, [], cache
    return plan.question, scored, cache


def _topic_drafts(scored: Sequence[extract.Scored], max_points: int) -> list[extract.Draft]:
    """One point per article first, for breadth. When fewer articles than points hold the topic, further
    points come from those articles, figures first: a round-up of a dozen layoff figures is summarized by
    its figures, not by its commentary, which matches the topic's words better."""
    drafts = extract.select(scored, max_points=max_points, per_article=1, floor=extract.TOPIC_FLOOR)
    if not drafts or len(drafts) >= max_points:
        return drafts
    articles = {d.lead.sentence.article_id for d in drafts}
    floor = scored[0].score * DEEP_FLOOR
    deeper = [s for s in scored if s.score >= floor and s.sentence.article_id in articles]
    deeper.sort(key=lambda s: not coverage.states_figure(s.sentence.text))  # stable: best first within
    chosen = [d.lead for d in drafts]
    for cand in deeper:
        if len(drafts) >= max_points:
            break
        if all(float(cand.vector @ c.vector) < extract.REDUNDANT for c in chosen):
            drafts.append(extract.Draft(cand))
            chosen.append(cand)
    return drafts


def _by_story(
    engine: Engine, drafts: Sequence[extract.Draft], cache: ArticleCache
) -> tuple[list[list[Sentence]], list[str | None]]:
    """Points grouped by the story of their article, biggest story first; within a story, oldest
    article first and in each article's order."""
    articles = [
        a for aid in dict.fromkeys(d.lead.sentence.article_id for d in drafts) if (a := cache.get(aid))
    ]
    story_of = {a.id: story for story in group_stories(engine, articles) for a in story.articles}
    groups: list[list[Sentence]] = []
    headings: list[str | None] = []
    for story in dict.fromkeys(
        story_of[d.lead.sentence.article_id] for d in drafts if d.lead.sentence.article_id in story_of
    ):
        members = [d for d in drafts if story_of.get(d.lead.sentence.article_id) is story]
        members.sort(
            key=lambda d: (d.lead.sentence.published or "", d.lead.sentence.article_id, d.lead.sentence.start)
        )
        for i, draft in enumerate(members):
            groups.append(draft.sentences)
            headings.append(story.heading if i == 0 else None)
    return groups, headings


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
    viewer: str | None = None,
) -> Summary:
    """The period's stories grouped by topic, biggest first: a headline and one or two cited sentences
    each (the headline is the `heading` of the story's first point)."""
    engine = engine.viewed_by(viewer)
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
            headings.append(story.heading if i == 0 else None)
    return groups, headings
