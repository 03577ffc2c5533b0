"""Provenance: an article is replaced only by its own source (the feed it came from, or a response from
its own site). Pages and feeds are served from 127.0.0.1, allowed explicitly; no other address is used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.config import Settings
from index.engine import Engine
from index.models import ArticleDraft
from tests.helpers.embedders import HashEmbedder
from tests.helpers.local_http import LocalServer, Response, serve

FORTUNE_URL = "https://fortune.com/2024/05/01/chip-plant-opens/"
AGE_URL = "https://www.theage.com.au/national/tram-line-approved-20250212.html"
TRUE_STORY = (
    "The chip plant opened on Wednesday with four hundred workers on its first shift. "
    "The company said production would reach full capacity by the end of next year. "
    "State officials attended the opening and praised the investment in local jobs. "
)
INVENTED = (
    "The chip plant was closed for good on Wednesday and every worker was sent home. "
    "An anonymous source claimed the company had run out of money months ago. "
    "Nobody from the company could be reached to confirm the closure of the plant. "
)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "data", fetch_allow="127.0.0.1", _env_file=None)
    with Engine(settings, embedder=HashEmbedder()) as made:
        yield made


def page(text: str, canonical: str) -> bytes:
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    return (
        f'<html><head><title>Chip plant</title><link rel="canonical" href="{canonical}"></head>'
        f"<body><article><h1>Chip plant</h1>{paragraphs}</article></body></html>"
    ).encode()


def feed(title: str, link: str, text: str) -> bytes:
    return (
        f"<rss version='2.0'><channel><title>{title}</title><item><title>Tram line approved</title>"
        f"<link>{link}</link><description>{text * 3}</description></item></channel></rss>"
    ).encode()


def body_at(engine: Engine, url: str) -> str:
    [article] = [a for a in engine.articles() if a.url == url]
    return article.body


def test_a_page_claiming_another_sites_canonical_url_becomes_its_own_article(
    engine: Engine, server: LocalServer
) -> None:
    engine.ingest_items([ArticleDraft(TRUE_STORY, "fortune.json#1", url=FORTUNE_URL, source="Fortune")])
    fake = server.route("/fake", Response(page(INVENTED, FORTUNE_URL)))
    report = engine.ingest([fake])
    assert (report.added, report.updated, report.skipped) == (1, 0, [])
    assert body_at(engine, FORTUNE_URL) == TRUE_STORY.strip()
    assert body_at(engine, fake).startswith("The chip plant was closed for good")
    [planted] = [a for a in engine.articles() if a.url == fake]
    assert "fortune" not in (planted.source or "").lower()  # not named after the refused canonical's site


def test_a_feed_entry_cannot_replace_another_sources_article(engine: Engine, server: LocalServer) -> None:
    age = server.route(
        "/age/rss", Response(feed("The Age", AGE_URL, TRUE_STORY), content_type="application/rss+xml")
    )
    blog = server.route(
        "/blog/rss", Response(feed("Small Blog", AGE_URL, INVENTED), content_type="application/rss+xml")
    )
    assert engine.ingest([age], fetch_linked=False).added == 1
    report = engine.ingest([blog], fetch_linked=False)
    assert (report.added, report.updated) == (0, 0)
    [refused] = report.skipped
    assert refused.source == f"{blog}#1"
    assert refused.reason.startswith(
        f"not stored: {canonical(AGE_URL)} is already stored from another source"
    )
    assert body_at(engine, AGE_URL).startswith("The chip plant opened")
    # the feed it came from may update it
    server.route(
        "/age/rss",
        Response(feed("The Age", AGE_URL, TRUE_STORY + "Updated. "), content_type="application/rss+xml"),
    )
    assert engine.ingest([age], fetch_linked=False).updated == 1


def test_a_response_from_the_articles_own_site_may_update_it(engine: Engine, server: LocalServer) -> None:
    own = server.url("/own")
    engine.ingest_items([ArticleDraft(TRUE_STORY, "saved.json#1", url=own)])
    server.route("/own", Response(page(INVENTED, own)))
    report = engine.ingest([own])
    assert (report.added, report.updated, report.skipped) == (0, 1, [])
    assert body_at(engine, own).startswith("The chip plant was closed for good")


def canonical(url: str) -> str:
    from index.text import canonical_url

    return canonical_url(url) or url


def test_only_the_very_feed_an_article_came_from_counts_as_its_source() -> None:
    from index.ingest import foreign_update

    def entry(feed: str) -> ArticleDraft:
        return ArticleDraft(
            INVENTED, f"{feed}#1", url=AGE_URL, fetched_from="https://blog.example/rss", feed=feed
        )

    assert foreign_update(entry("https://feeds.example/age"), AGE_URL, "https://feeds.example/age#4") is None
    assert (
        foreign_update(entry("https://feeds.example/age.jsonl"), AGE_URL, "https://feeds.example/age.jsonl:4")
        is None
    )
    # A prefix of the stored feed's address is another source: the same host's port 80 is not its port 8080.
    assert foreign_update(entry("http://feeds.example"), AGE_URL, "http://feeds.example:8080/age#4")
    assert foreign_update(entry("https://feeds.example/age"), AGE_URL, "https://feeds.example/age#4x")
