"""The poller against feeds on 127.0.0.1 that change between polls, on a clock the tests move."""

from __future__ import annotations

import threading
import time

from index.live import Poller, schedule
from index.live import feeds as live_feeds
from tests.helpers.feed_server import Entry, Feed, text
from tests.helpers.local_http import Response
from tests.live.conftest import entries


def stored_urls(engine) -> list[str]:
    return sorted(a.url for a in engine.articles())


def test_added_feed_is_polled_at_once_and_answerable(engine, poller, site):
    feed = live_feeds.add(engine, site.url, scope="operator", poller=poller)
    assert feed.title == "Local Gazette"
    assert feed.articles == 3 and feed.last_checked and feed.last_new and feed.failures == 0
    assert stored_urls(engine) == sorted(site.link(e) for e in site.entries)
    hits = engine.search(site.entries[1].body.split(".")[0], k=1)
    assert hits and hits[0].url == site.link(site.entries[1])


def test_not_due_feeds_wait_and_unchanged_feed_is_a_304(engine, poller, clock, site):
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    assert poller.run_once().feeds_checked == 0  # polled on add: next due after its interval
    clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
    report = poller.run_once()
    assert report.to_json() == {"feeds_checked": 1, "not_modified": 1, "new_articles": 0, "errors": []}
    assert site.not_modified == 1 and site.served == 1


def test_new_changed_and_removed_entries(engine, poller, clock, site):
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    changed = site.entries[0]
    site.entries = [Entry(changed.slug, changed.title, text(999)), *site.entries[1:2], *entries(10, 2)]
    report = poller.run_once(force=True)
    assert report.new_articles == 2 and report.updated_articles == 1
    article = next(a for a in engine.articles() if a.url == site.link(changed))
    assert article.body == text(999)  # the changed entry replaced its old version
    # The entry that left the feed stays stored: a feed is a window on the news, not its archive.
    assert site.link(entries(3, 1)[0]) in stored_urls(engine)
    assert len(stored_urls(engine)) == 5
    feed = live_feeds.list_feeds(engine)[0]
    assert feed.articles == 5


def test_repolling_the_same_entries_stores_nothing_twice(engine, poller, site):
    site.conditional = False  # a server that never answers 304: every poll reads the whole feed
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    chunks = engine.store.counts()["chunks"]
    for _ in range(3):
        report = poller.run_once(force=True)
        assert report.new_articles == 0 and report.not_modified == 0
    assert engine.store.counts()["chunks"] == chunks and len(stored_urls(engine)) == 3


def test_server_errors_back_off_exponentially_then_broken_but_still_retried(engine, poller, clock, site):
    feed = live_feeds.add(engine, site.url, scope="operator", poller=poller)
    site.fail = Response(b"oops", status=500)
    waits = []
    for failures in range(1, schedule.BROKEN_AFTER + 3):
        clock.at = engine.store.feeds.get(feed.id)["next_due"]
        report = poller.run_once()
        assert report.errors == [
            {"feed": feed.id, "url": site.url, "reason": "HTTP 500 Internal Server Error"}
        ]
        row = live_feeds.get(engine, feed.id)
        assert row.failures == failures and row.last_error == "HTTP 500 Internal Server Error"
        assert row.broken == (failures >= schedule.BROKEN_AFTER)
        waits.append(row.next_due - clock())
        assert poller.run_once().feeds_checked == 0  # never a tight loop
    assert waits[1] > waits[0] * 1.7 and waits[2] > waits[1] * 1.7
    assert max(waits) <= schedule.MAX_BACKOFF * (1 + schedule.JITTER)
    assert waits[-1] >= schedule.MAX_BACKOFF  # a broken feed is still tried, twice a day
    site.fail = None
    site.entries.append(entries(20, 1)[0])
    clock.at = live_feeds.get(engine, feed.id).next_due
    assert poller.run_once().new_articles == 1
    healthy = live_feeds.get(engine, feed.id)
    assert (healthy.failures, healthy.broken, healthy.last_error) == (0, False, None)


def test_429_retry_after_is_honoured(engine, poller, clock, site):
    feed = live_feeds.add(engine, site.url, scope="operator", poller=poller)
    site.fail = Response(b"slow down", status=429, headers={"Retry-After": "7200"})
    clock.advance(schedule.DEFAULT_INTERVAL * 2)
    report = poller.run_once()
    assert "429" in report.errors[0]["reason"]
    assert live_feeds.get(engine, feed.id).next_due >= clock() + 7200
    clock.advance(7000)
    assert poller.run_once().feeds_checked == 0


def test_timeouts_are_failures_of_that_feed_only(engine, poller, server, site):
    slow = Feed(server, "/slow.xml", "Slow Times", entries(30, 1))
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    live_feeds.add(engine, slow.url, scope="operator", poller=poller)
    slow.fail = Response(b"", delay=3.0)  # past the 2 s fetch timeout
    site.entries.append(entries(31, 1)[0])
    report = poller.run_once(force=True)
    assert report.feeds_checked == 2 and report.new_articles == 1
    assert [e["reason"] for e in report.errors] == ["timed out after 2 seconds"]


def test_redirected_feed_is_followed(engine, poller, server, site):
    moved = server.route("/old-feed", Response(b"", status=301, headers={"Location": site.url}))
    feed = live_feeds.add(engine, moved, scope="operator", poller=poller)
    assert feed.articles == 3 and feed.url == moved


def test_page_advertising_its_feed_is_discovered(engine, poller, server, site):
    page = server.route(
        "/", Response(b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
                      b"</head><body><p>Home</p></body></html>")
    )  # fmt: skip
    preview = live_feeds.check(engine, page)
    assert (preview.url, preview.title, preview.discovered_from) == (site.url, "Local Gazette", page)
    assert [e.title for e in preview.entries] == [e.title for e in site.entries]
    assert engine.store.counts()["articles"] == 0 and live_feeds.list_feeds(engine) == []
    assert live_feeds.add(engine, page, scope="operator", poller=poller).url == site.url


def test_page_without_feed_is_refused_and_nothing_is_added(engine, poller, server):
    page = server.route("/about", Response(b"<html><body><p>About us</p></body></html>"))
    try:
        live_feeds.add(engine, page, scope="operator", poller=poller)
    except live_feeds.FeedError as error:
        assert "no feed found" in str(error)
    else:
        raise AssertionError("a page without a feed was added")
    assert live_feeds.list_feeds(engine) == []


def test_bad_input_changes_nothing(engine, poller, site):
    for url, scope, interval, problem in [
        ("ftp://example.com/feed", "operator", 900, "bad feed URL"),
        (site.url, "operator", 60, "too short"),
        (site.url, "operator", "soon", "bad interval"),
        (site.url, "guild:abc", 900, "bad scope"),
    ]:
        try:
            live_feeds.add(engine, url, scope=scope, interval_s=interval, poller=poller)
        except live_feeds.FeedError as error:
            assert problem in str(error)
        else:
            raise AssertionError(f"{url} {scope} {interval} was accepted")
    assert live_feeds.list_feeds(engine) == [] and site.served == 0


def test_same_url_twice_in_a_scope_is_refused_but_another_scope_may_follow_it(engine, poller, site):
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    try:
        live_feeds.add(engine, site.url, scope="operator", poller=poller)
    except live_feeds.FeedError as error:
        assert "already followed" in str(error)
    else:
        raise AssertionError("followed twice")
    other = live_feeds.add(engine, site.url, scope="guild:42", poller=poller)
    assert other.scope == "guild:42" and len(stored_urls(engine)) == 3


def test_paused_scope_is_not_polled(engine, poller, clock, site):
    live_feeds.add(engine, site.url, scope="guild:42", poller=poller)
    assert live_feeds.pause_scope(engine, "guild:42") == 1
    clock.advance(10 * schedule.DEFAULT_INTERVAL)
    assert poller.run_once().feeds_checked == 0 and poller.run_once(force=True).feeds_checked == 0
    assert live_feeds.list_feeds(engine, scope="guild:42")[0].paused


def test_one_request_at_a_time_per_server(engine, clock, server):
    feeds = [Feed(server, f"/f{n}.xml", f"Feed {n}", entries(100 + n * 2, 2)) for n in range(6)]
    poller = Poller(engine, now=clock, max_concurrency=4)
    active, most = 0, 0
    lock = threading.Lock()
    for feed in feeds:
        answer = feed.answer

        def counted(headers, answer=answer):
            nonlocal active, most
            with lock:
                active += 1
                most = max(most, active)
            try:
                time.sleep(0.05)
                return answer(headers)
            finally:
                with lock:
                    active -= 1

        server.routes[feed.path] = counted
        engine.store.feeds.add({"url": feed.url, "scope": "operator", "interval_s": 900, "next_due": 0,
                                "added_at": "2026-12-01T08:00:00Z"})  # fmt: skip
    report = poller.run_once()
    assert report.feeds_checked == 6 and report.new_articles == 12
    assert most == 1


def test_interval_parsing():
    assert schedule.parse_interval("15m") == 900
    assert schedule.parse_interval("1h30m") == 5400
    assert schedule.parse_interval("300") == 300
    for bad in ("4m", "", "fast", "-5m"):
        try:
            schedule.parse_interval(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(bad)


def test_a_servers_feed_is_seen_by_that_server_only_and_removed_by_it_only(engine, poller, server, site):
    own = live_feeds.add(engine, site.url, scope="guild:1", poller=poller)
    shared = Feed(server, "/shared.xml", "Shared Wire", [site.entries[0], *entries(90, 1)])
    live_feeds.add(engine, shared.url, scope="operator", poller=poller)
    only_own = site.link(site.entries[1])
    assert only_own in {a.url for a in engine.articles(viewer="guild:1")}
    assert only_own not in {a.url for a in engine.articles(viewer="guild:2")}
    assert only_own not in {a.url for a in engine.articles(viewer="operator")}
    try:
        live_feeds.remove(engine, own.id, scope="guild:2")
    except live_feeds.FeedError as error:
        assert "not one of this server's feeds" in str(error)
    else:
        raise AssertionError("another server removed the feed")
    removed = live_feeds.remove(engine, own.id, scope="guild:1")
    assert len(removed) == 2  # the entry the operator's feed carries too stays
    assert sorted(stored_urls(engine)) == sorted(shared.link(e) for e in shared.entries)
    assert [f.url for f in live_feeds.list_feeds(engine)] == [shared.url]
