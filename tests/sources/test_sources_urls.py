"""URL sources and the Fetcher, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from index.models import ArticleDraft, Skipped
from index.sources import FetchedPage, Fetcher, FetchError, read_sources
from index.sources.fetch import DEFAULT_USER_AGENT
from tests.helpers.local_http import LocalServer, Response
from tests.sources.conftest import FULL_TEXT, RSS, article_page, local_fetcher


def teaser_feed(full_content: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Metro Gazette</title><link>/</link>
  <item><title>Tram line approved</title><link>/articles/tram</link>
    <pubDate>Wed, 12 Feb 2025 18:00:00 +0100</pubDate>
    <description>The regional council approved the new tram line on Wednesday… Read more</description></item>
  <item><title>Library hours extended</title><link>/articles/gone</link>
    <pubDate>Tue, 11 Feb 2025 09:00:00 +0100</pubDate>
    <description>The central library will stay open until 10 pm [...]</description></item>
  <item><title>Budget debate</title><link>/articles/budget</link>
    <content:encoded><![CDATA[{full_content}]]></content:encoded></item>
</channel></rss>""".encode()


@pytest.fixture
def news_site(server: LocalServer, fixtures: Path) -> LocalServer:
    server.route("/news/bridge", Response((fixtures / "news_article.html").read_bytes()))
    server.route("/articles/tram", Response(article_page("Council approves tram line", FULL_TEXT)))
    full = "".join(f"<p>{'The budget debate went on for hours and hours. ' * 6}</p>" for _ in range(3))
    server.route("/articles/budget", Response(article_page("Budget", ["Should not be fetched."])))
    server.route("/feed.xml", Response(teaser_feed(full), content_type=RSS))
    return server


def requested(server: LocalServer) -> list[str]:
    return [path for path, _ in server.requests]


def test_html_page_url(news_site: LocalServer, fetcher: Fetcher) -> None:
    url = news_site.url("/news/bridge")
    [draft] = read_sources([url], fetcher=fetcher)
    assert isinstance(draft, ArticleDraft)
    assert draft.origin == url
    assert draft.body.startswith("The harbour bridge reopened to traffic on Tuesday morning")
    assert "We use cookies" not in draft.body and "Related stories" not in draft.body
    # the page's canonical URL names another site than the one that served it: not taken
    assert b"https://www.coastalherald.example/news/2024/05/01/harbour-bridge-reopens" in (
        news_site.routes["/news/bridge"].body
    )
    assert draft.url == draft.fetched_from == url
    assert (draft.source, draft.published) == ("The Coastal Herald", "2024-05-01")
    [(path, headers)] = news_site.requests
    assert path == "/news/bridge"
    assert headers["user-agent"] == DEFAULT_USER_AGENT


def test_custom_user_agent_is_sent(news_site: LocalServer) -> None:
    with local_fetcher(user_agent="test-agent/9") as fetcher:
        list(read_sources([news_site.url("/news/bridge")], fetcher=fetcher))
    assert news_site.requests[0][1]["user-agent"] == "test-agent/9"


def test_feed_teasers_are_completed_from_linked_pages(news_site: LocalServer, fetcher: Fetcher) -> None:
    feed_url = news_site.url("/feed.xml")
    tram, library, budget = read_sources([feed_url], fetcher=fetcher)
    # teaser + fetched page: the page's text and title, the feed's date (the page has none)
    assert isinstance(tram, ArticleDraft)
    assert tram.body == "\n\n".join(FULL_TEXT)
    assert tram.title == "Council approves tram line"
    assert tram.published == "2025-02-12"
    assert tram.url == news_site.url("/articles/tram")  # relative link resolved against the feed URL
    assert tram.source == "Metro Gazette"
    assert tram.origin == f"{feed_url}#1"
    assert (tram.feed, tram.fetched_from) == (feed_url, news_site.url("/articles/tram"))
    # linked page is a 404: the teaser is kept rather than losing the entry
    assert isinstance(library, ArticleDraft)
    assert library.body == "The central library will stay open until 10 pm [...]"
    assert library.title == "Library hours extended"
    assert (library.feed, library.fetched_from) == (feed_url, feed_url)  # the feed's own text
    # full content in the feed: the page is not fetched
    assert isinstance(budget, ArticleDraft)
    assert budget.body.startswith("The budget debate went on for hours")
    assert requested(news_site) == ["/feed.xml", "/articles/tram", "/articles/gone"]  # one host: in order
    assert all(headers["user-agent"] == DEFAULT_USER_AGENT for _, headers in news_site.requests)


def test_fetch_linked_false_keeps_teasers(news_site: LocalServer, fetcher: Fetcher) -> None:
    tram, *_ = read_sources([news_site.url("/feed.xml")], fetch_linked=False, fetcher=fetcher)
    assert tram.body == "The regional council approved the new tram line on Wednesday… Read more"
    assert tram.title == "Tram line approved"
    assert requested(news_site) == ["/feed.xml"]


def test_local_feed_file_never_causes_network_traffic(
    news_site: LocalServer, tmp_path: Path, fetcher: Fetcher
) -> None:
    feed = tmp_path / "saved.rss"
    link = news_site.url("/articles/tram")
    feed.write_text(
        f"<rss version='2.0'><channel><title>Saved</title><item><title>Tram</title><link>{link}</link>"
        "<description>Council approves tram…</description></item></channel></rss>",
        encoding="utf-8",
    )
    [offline] = read_sources([str(feed)])
    assert offline.body == "Council approves tram…"
    assert news_site.requests == []
    [offline] = read_sources([str(feed)], fetcher=fetcher)  # even with a fetcher at hand (the engine's)
    assert offline.body == "Council approves tram…"
    assert (offline.source, offline.url, offline.fetched_from) == ("Saved", link, None)
    assert news_site.requests == [] and news_site.connections == []


def test_timeout(server: LocalServer) -> None:
    url = server.route("/slow", Response(b"<p>late</p>", delay=3))
    started = time.monotonic()
    with local_fetcher(timeout=0.4) as fetcher:
        [skipped] = read_sources([url], fetcher=fetcher)
    assert skipped == Skipped(url, "timed out after 0.4 seconds")
    assert skipped.kind == "timeout"
    assert time.monotonic() - started < 2


def test_huge_streamed_response_is_cut_off(server: LocalServer) -> None:
    url = server.route("/huge", Response(b"x" * 65536, content_type="text/plain", stream_chunks=500))  # 32 MB
    started = time.monotonic()
    with local_fetcher(max_bytes=200_000) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.reason == "response too large (more than 200000 bytes, download stopped)"
    assert caught.value.kind == "too-large"
    assert time.monotonic() - started < 3
    with local_fetcher(max_bytes=200_000) as fetcher:
        [item] = read_sources([url], max_bytes=200_000, fetcher=fetcher)
    assert item == Skipped(url, "response too large (more than 200000 bytes, download stopped)")


def test_declared_length_over_the_cap_is_refused(server: LocalServer) -> None:
    url = server.route("/big", Response(b"y" * 300_000, content_type="text/plain"))
    with (
        local_fetcher(max_bytes=200_000) as fetcher,
        pytest.raises(FetchError, match=r"^response too large \(300000 bytes, limit 200000\)$"),
    ):
        fetcher.fetch(url)


def test_http_error_status(server: LocalServer, fetcher: Fetcher) -> None:
    url = server.url("/missing")
    [missing] = read_sources([url], fetcher=fetcher)
    assert (missing, missing.kind) == (Skipped(url, "HTTP 404 Not Found"), "http-status")
    server.route("/boom", Response(b"oops", status=503, content_type="text/plain"))
    assert list(read_sources([server.url("/boom")], fetcher=fetcher)) == [
        Skipped(server.url("/boom"), "HTTP 503 Service Unavailable")
    ]


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    [refused] = read_sources([url], fetcher=fetcher)
    assert (refused, refused.kind) == (Skipped(url, "connection refused"), "network")


@pytest.mark.parametrize(
    ("url", "scheme"), [("ftp://127.0.0.1/pub/feed.xml", "ftp"), ("file:///etc/passwd", "file")]
)
def test_non_http_schemes_are_refused(url: str, scheme: str) -> None:
    reason = f"unsupported URL scheme '{scheme}:': only http and https URLs can be fetched"
    with pytest.raises(FetchError) as caught:
        Fetcher().fetch(url)
    assert caught.value.reason == reason
    assert list(read_sources([url])) == [Skipped(url, reason)]


def test_redirects_are_followed_but_not_to_other_schemes(news_site: LocalServer) -> None:
    news_site.route("/old", Response(status=301, headers={"Location": "/news/bridge"}))
    fetcher = local_fetcher()
    page = fetcher.fetch(news_site.url("/old"))
    assert isinstance(page, FetchedPage)
    assert page.url == news_site.url("/news/bridge")
    assert page.mime_type == "text/html" and page.charset == "utf-8"
    assert b"harbour bridge" in page.body
    news_site.route("/sneaky", Response(status=302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match=r"^redirected to an unsupported URL scheme 'file:'"):
        fetcher.fetch(news_site.url("/sneaky"))


def test_kind_is_detected_from_content_type_and_sniffing(
    server: LocalServer, fixtures: Path, fetcher: Fetcher
) -> None:
    rss = (fixtures / "rss1.rdf").read_bytes()
    mislabelled = server.route("/feed", Response(rss, content_type="text/html"))
    xml = server.route("/rss", Response(rss, content_type="text/xml"))
    untyped = server.route("/atom", Response((fixtures / "atom.xml").read_bytes(), content_type=None))
    text = server.route(
        "/story.txt", Response(b" date 2025-01-09 Snow closed the pass.", content_type="text/plain")
    )
    records = json.dumps({"articles": [{"title": "J", "body": "Json body."}]}).encode()
    api = server.route("/api/latest", Response(records, content_type="application/json"))
    image = server.route("/logo", Response(b"\x89PNG\r\n", content_type="image/png"))
    items = list(
        read_sources([mislabelled, xml, untyped, text, api, image], fetch_linked=False, fetcher=fetcher)
    )
    titles = [item.title for item in items if isinstance(item, ArticleDraft)]
    assert titles == [
        "Town library to open on Sundays",
        "Flood barrier passes first test",
        "Town library to open on Sundays",
        "Flood barrier passes first test",
        "Rail fares to rise by 4.6% in January",
        "Museum returns looted bronzes",
        None,
        "J",
    ]
    story = items[6]
    assert (story.body, story.published, story.url) == ("Snow closed the pass.", "2025-01-09", text)
    assert items[-1] == Skipped(image, "unsupported content type image/png")


def test_charset_from_http_header(server: LocalServer, fetcher: Fetcher) -> None:
    paragraphs = "".join(
        f"<p>Die Straße Nummer {n} wird für den Verkehr gesperrt, teilte die Stadt am Montag mit.</p>"
        for n in range(4)
    )
    page = f"<html><head><title>Sperrung</title></head><body><article>{paragraphs}</article></body></html>"
    url = server.route("/de", Response(page.encode("latin-1"), content_type="text/html; charset=ISO-8859-1"))
    [draft] = read_sources([url], fetcher=fetcher)
    assert isinstance(draft, ArticleDraft)
    assert "Die Straße Nummer 0 wird für den Verkehr gesperrt, teilte die Stadt" in draft.body
