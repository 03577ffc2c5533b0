"""Summaries on the bundled real news: an article, a topic and a period, every point a cited sentence."""

from __future__ import annotations

import re

import pytest

from index.answers import summarize_article, summarize_period, summarize_topic
from index.answers.cluster import group_stories
from index.models import Summary

pytestmark = pytest.mark.model


def article_id(engine, url_part: str) -> str:
    return next(a.id for a in engine.articles() if url_part in (a.url or ""))


def assert_verbatim(engine, summary: Summary) -> None:
    assert [c.n for c in summary.citations] == list(range(1, len(summary.citations) + 1))
    assert {n for p in summary.points for n in p.citations} == {c.n for c in summary.citations}
    for c in summary.citations:
        assert engine.article(c.article_id).body[c.start : c.end] == c.excerpt


def test_an_article_summary_quotes_its_key_sentences_in_order(news_engine) -> None:
    aid = article_id(news_engine, "eintracht-frankfurt")
    body = news_engine.article(aid).body
    summary = summarize_article(news_engine, aid)
    assert summary.kind == "article" and summary.title == news_engine.article(aid).title
    assert len(summary.points) == 3  # about three points, as the outlets' own highlights
    starts = [summary.citations[p.citations[0] - 1].start for p in summary.points]
    assert starts == sorted(starts)
    assert {c.article_id for c in summary.citations} == {aid}
    assert sum(len(p.text) + 8 for p in summary.points) <= 3500
    assert summary.citations[0].excerpt in body
    assert any("5-1" in c.excerpt for c in summary.citations)  # the result is the lead's key fact
    assert_verbatim(news_engine, summary)


def test_an_article_summary_is_longer_when_asked(news_engine) -> None:
    aid = article_id(news_engine, "video-games-in-2023")
    short, long = summarize_article(news_engine, aid), summarize_article(news_engine, aid, max_points=6)
    assert len(short.points) == 3 and len(long.points) == 6
    assert_verbatim(news_engine, long)
    for text in ("?", "Scroll down", "Sign up"):
        assert not any(text in p.text for p in long.points)
    with pytest.raises(ValueError, match="1 to 10 points"):
        summarize_article(news_engine, aid, max_points=0)


def test_an_unknown_article_has_no_summary(news_engine) -> None:
    assert summarize_article(news_engine, "no-such-id") is None


def test_a_topic_summary_covers_several_articles_without_repeating(news_engine) -> None:
    summary = summarize_topic(news_engine, "Sam Bankman-Fried and the FTX trial")
    articles = {c.article_id for c in summary.citations}
    assert len(articles) >= 2 and len({c.source for c in summary.citations}) >= 2
    for c in summary.citations:
        assert "Bankman-Fried" in news_engine.article(c.article_id).body
    vectors = news_engine.embedder.embed([p.text for p in summary.points])
    sims = vectors @ vectors.T
    assert all(sims[i, j] < 0.9 for i in range(len(sims)) for j in range(i))
    assert_verbatim(news_engine, summary)


def test_a_topic_held_by_one_round_up_quotes_its_figures(news_engine) -> None:
    """The bug report: "video game industry layoffs" gave one point, though the article it is in holds a
    dozen layoff figures from several companies."""
    summary = summarize_topic(news_engine, "video game industry layoffs")
    assert len(summary.points) >= 4
    laid_off = re.compile(r"\d[\d,]* (people|jobs|employees)|laid off|fired|cut \d")
    figures = [p.text for p in summary.points if laid_off.search(p.text)]
    companies = {c for c in ("Epic", "Electronic Arts", "Microsoft", "Ubisoft", "Sega", "Unity", "Embracer")
                 if any(c in text for text in figures)}  # fmt: skip
    assert len(figures) >= 3 and len(companies) >= 3, figures
    assert summary.points[0].heading == "Video games in 2023: Acquisitions, layoffs, unions (Engadget)"
    assert_verbatim(news_engine, summary)


def test_a_topic_the_news_does_not_cover_has_no_points(news_engine) -> None:
    summary = summarize_topic(news_engine, "sourdough bread recipes")
    assert summary.points == () and summary.citations == ()


def test_a_period_digest_groups_the_weeks_stories(news_engine) -> None:
    summary = summarize_period(news_engine, "7d", now="2023-12-20")
    assert summary.kind == "period"
    assert all("2023-12-14" <= c.published <= "2023-12-20" for c in summary.citations)
    week = news_engine.articles(since="2023-12-14", until="2023-12-20")
    headings = [p.heading for p in summary.points if p.heading]
    assert headings
    for heading in headings:  # "Title (Outlet)" or "Title (3 outlets: A, B, C)"
        assert any(heading.startswith(f"{a.title} (") and a.source in heading for a in week), heading
    assert summary.points[0].heading  # every story starts with its headline
    per_story = []
    for p in summary.points:
        per_story.append(1) if p.heading else per_story.__setitem__(-1, per_story[-1] + 1)
    assert max(per_story) <= 2
    assert_verbatim(news_engine, summary)


def test_stories_are_ordered_biggest_first(news_engine) -> None:
    stories = group_stories(news_engine, news_engine.articles())
    sizes = [s.size for s in stories]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] >= 2  # 60 articles include several on one subject (NFL, FTX, ...)
    assert sum(len(s.articles) for s in stories) == len(news_engine.articles())


def test_a_period_without_news_is_empty(news_engine) -> None:
    summary = summarize_period(news_engine, "1d", now="2025-01-01")
    assert summary.points == ()
    assert "2025-01-01" in summary.title
