"""How fetching spends its time and connections: one deadline per request (a server dripping its
headers cannot hold it), kept-alive connections reused across a feed's linked pages, linked pages a few
at a time but one at a time per host, and caps on a feed's entries and linked fetches."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from index.models import ArticleDraft, Skipped
from index.sources import Fetcher, FetchError, read_sources
from tests.helpers.local_http import LocalServer, Response
from tests.sources.conftest import FULL_TEXT, RSS, article_page, local_fetcher


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """Answers every connection with a status line, then one header byte every 50 ms for about 5 s,
    then a complete small response: a fetch only fails if something bounds the whole request."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(100):
                    if stop.wait(0.05):
                        return
                    conn.sendall(b"X")
                conn.sendall(b"-Slow: yes\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
            except OSError:
                return  # the client gave up

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
    finally:
        stop.set()
        listener.close()


def test_a_server_dripping_its_headers_cannot_outlast_the_timeout(dripping_server: str) -> None:
    with local_fetcher(timeout=0.5) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(dripping_server)
    assert (caught.value.kind, caught.value.reason) == ("timeout", "timed out after 0.5 seconds")


def teaser_feed(links: list[str], title: str = "Metro Gazette") -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>{link}</link><description>Teaser {n}…</description></item>"
        for n, link in enumerate(links, start=1)
    )
    return f"<rss version='2.0'><channel><title>{title}</title>{items}</channel></rss>".encode()


def test_a_feeds_linked_pages_reuse_its_connection(server: LocalServer, fetcher: Fetcher) -> None:
    links = [server.route(f"/a/{n}", Response(article_page(f"Story {n}", FULL_TEXT))) for n in range(3)]
    feed = server.route("/feed.xml", Response(teaser_feed(links), content_type=RSS))
    drafts = list(read_sources([feed], fetcher=fetcher))
    assert [d.body for d in drafts] == ["\n\n".join(FULL_TEXT)] * 3
    assert len(server.requests) == 4
    assert len(server.connections) == 1  # one kept-alive connection for the feed and its pages


def test_linked_pages_are_fetched_a_few_at_a_time_but_one_at_a_time_per_host(server: LocalServer) -> None:
    port = server.base.rsplit(":", 1)[1]
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()
    lock = threading.Lock()
    # The first page of each host waits for the other host's first page: only concurrent fetching
    # of the two hosts lets both through.
    both_hosts = threading.Barrier(2, timeout=10)

    def page(host: str, n: int):
        def respond() -> Response:
            with lock:
                in_flight[host] += 1
                most[host] = max(most[host], in_flight[host])
            try:
                if n == 0:
                    both_hosts.wait()
                threading.Event().wait(0.05)
                return Response(article_page(f"{host} {n}", FULL_TEXT))
            finally:
                with lock:
                    in_flight[host] -= 1

        return respond

    links = []
    for host in ("a.test", "b.test"):
        for n in range(3):
            server.routes[f"/{host}/{n}"] = page(host, n)
            links.append(f"http://{host}:{port}/{host}/{n}")
    feed = server.route("/feed.xml", Response(teaser_feed(links), content_type=RSS))
    with Fetcher(allow=["127.0.0.1"], resolver=lambda host, port: ["127.0.0.1"]) as fetcher:
        drafts = list(read_sources([feed], fetcher=fetcher))
    assert [d.title for d in drafts] == [f"{host} {n}" for host in ("a.test", "b.test") for n in range(3)]
    assert most == {"a.test": 1, "b.test": 1}
    assert not both_hosts.broken


def test_a_feeds_entries_and_linked_fetches_are_capped(server: LocalServer, fetcher: Fetcher) -> None:
    links = [server.route(f"/a/{n}", Response(article_page(f"Story {n}", FULL_TEXT))) for n in range(5)]
    feed = server.route("/feed.xml", Response(teaser_feed(links), content_type=RSS))
    items = list(read_sources([feed], fetcher=fetcher, max_entries=3, max_linked=1))
    *drafts, capped = items
    assert [type(d) for d in drafts] == [ArticleDraft] * 3
    assert [d.body for d in drafts] == ["\n\n".join(FULL_TEXT), "Teaser 2…", "Teaser 3…"]
    assert capped == Skipped(
        feed, "feed has 5 entries: read the first 3 (the cap is NEWSBOT_FEED_MAX_ENTRIES)"
    )
    assert sorted(path for path, _ in server.requests) == ["/a/0", "/feed.xml"]


def test_caps_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.config import Settings

    defaults = Settings(_env_file=None)
    assert (defaults.feed_max_entries, defaults.feed_max_linked, defaults.fetch_allow_list) == (500, 30, [])
    monkeypatch.setenv("NEWSBOT_FEED_MAX_ENTRIES", "7")
    monkeypatch.setenv("NEWSBOT_FEED_MAX_LINKED", "2")
    assert (Settings(_env_file=None).feed_max_entries, Settings(_env_file=None).feed_max_linked) == (7, 2)


def test_a_slow_lookup_counts_against_the_same_deadline() -> None:
    release = threading.Event()

    def stuck_resolver(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.1"]

    fetcher = Fetcher(timeout=0.3, allow=["127.0.0.1"], resolver=stuck_resolver)
    try:
        with fetcher, pytest.raises(FetchError) as caught:
            fetcher.fetch("http://news.test/story")
        assert (caught.value.kind, caught.value.reason) == ("timeout", "timed out after 0.3 seconds")
    finally:
        release.set()


def test_a_feeds_linked_pages_share_one_time_budget(dripping_server: str) -> None:
    """Twelve links to a host that answers each too slowly: the fetches stop once the feed's budget
    (a few request timeouts) is spent, rather than after twelve timeouts."""
    from index.sources import fetch

    links = [f"{dripping_server}?{n}" for n in range(12)]
    with local_fetcher(timeout=0.3) as fetcher:
        results = fetcher.fetch_each(links, then=lambda page: page)
    reasons = [r.reason for r in results.values() if isinstance(r, FetchError)]
    assert len(reasons) == 12
    over_budget = [r for r in reasons if "linked pages took longer" in r]
    # one host, one at a time: about LINKED_BUDGET_TIMEOUTS fetches start before the budget is spent
    assert len(over_budget) >= 12 - (fetch.LINKED_BUDGET_TIMEOUTS + 2), reasons
