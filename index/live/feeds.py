"""Following feeds: add (found from a page if need be, then polled at once), list, preview, remove,
and pause a scope's feeds (the bot left that server). Bad input raises FeedError and changes nothing.

A feed belongs to a scope (index/scopes.py): "operator" (every server sees its articles) or
"guild:<id>" (that server only). The same URL may be followed by several scopes, once each."""

from __future__ import annotations

import re
from contextlib import nullcontext

from ..engine import Engine
from ..models import ArticleDraft
from ..scopes import parse_scope
from ..sources.feeds import parse_feed
from ..sources.fetch import Fetcher
from ..storage.feeds import FeedExists
from . import schedule
from .discovery import find_feed
from .poller import Poller, fetcher_for
from .records import Feed, FeedError, Preview, PreviewEntry

PREVIEW_ENTRIES = 5


def add(
    engine: Engine,
    url: str,
    *,
    scope: str,
    channel_id: int | None = None,
    interval_s: int = schedule.DEFAULT_INTERVAL,
    added_by: str | None = None,
    fetcher: Fetcher | None = None,
    poller: Poller | None = None,
) -> Feed:
    """Follow the feed at `url` (or the one the page at `url` advertises) and poll it at once, so its
    articles are answerable when this returns. FeedError if the URL, interval or scope is bad, the
    page has no feed, or the scope follows it already."""
    check_scope(scope)
    try:
        interval_s = schedule.parse_interval(interval_s)
    except ValueError as error:
        raise FeedError(str(error)) from None
    url = _check_url(url)
    with _fetching(engine, fetcher) as using:
        found = find_feed(using, url)
        if any(row["url"] == found.url for row in engine.store.feeds.all(scope)):
            raise FeedError(f"this feed is already followed here ({found.url})")
        now = (poller.now if poller else _now)()
        try:
            feed_id = engine.store.feeds.add(
                {"url": found.url, "title": _title_of(found.page.body, found.url), "scope": scope,
                 "channel_id": channel_id, "interval_s": interval_s, "next_due": now, "added_by": added_by,
                 "added_at": schedule.iso(now)}
            )  # fmt: skip
        except FeedExists as error:
            raise FeedError(str(error)) from None
        poller = poller or Poller(engine, fetcher=using)
        poller.poll_feed(feed_id, page=found.page)
    return get(engine, feed_id)


def get(engine: Engine, feed_id: int) -> Feed:
    row = engine.store.feeds.get(feed_id)
    if row is None:
        raise FeedError(f"no feed with id {feed_id}")
    return Feed.from_row(row)


def list_feeds(engine: Engine, *, scope: str | None = None) -> list[Feed]:
    """Every feed (scope None), or one scope's, in the order they were added."""
    if scope is not None:
        check_scope(scope)
    return [Feed.from_row(row) for row in engine.store.feeds.all(scope)]


def remove(engine: Engine, feed_id: int, *, scope: str | None = None) -> list[str]:
    """Stop following a feed and release what it brought: articles no other claim holds are removed
    (their ids are returned). `scope` None is an operator's removal; a guild's scope may remove only
    its own feeds."""
    feed = _feed_in_scope(engine, feed_id, scope)
    brought = engine.store.feeds.article_ids(feed.id)
    # Released first: a crash before the feed's row goes leaves a feed that can be removed again.
    removed = engine.release(brought, scope=feed.scope, via=f"feed:{feed.id}") if brought else []
    engine.store.feeds.delete(feed.id)
    return removed


def check(engine: Engine, url: str, *, fetcher: Fetcher | None = None) -> Preview:
    """The feed at `url` (or the one its page advertises): title and latest entries. Adds nothing."""
    url = _check_url(url)
    with _fetching(engine, fetcher) as using:
        found = find_feed(using, url)
    entries = [
        PreviewEntry(item.title, item.url, item.published)
        for item in parse_feed(found.page.body, found.url, base_url=found.page.url, fetch_linked=False,
                               max_entries=PREVIEW_ENTRIES)
        if isinstance(item, ArticleDraft)
    ]  # fmt: skip
    return Preview(found.url, _title_of(found.page.body, found.url), entries, found.discovered_from)


def pause_scope(engine: Engine, scope: str) -> int:
    """Stop polling a scope's feeds (the bot left that server); they stay listed. Returns how many."""
    check_scope(scope)
    return engine.store.feeds.pause_scope(scope)


def check_scope(scope: str) -> str:
    try:
        return parse_scope(scope)
    except ValueError as error:
        raise FeedError(f"bad scope: {error}") from None


def _feed_in_scope(engine: Engine, feed_id: int, scope: str | None) -> Feed:
    if scope is not None:
        check_scope(scope)
    feed = get(engine, feed_id)
    if scope is not None and feed.scope != scope:
        raise FeedError(f"feed {feed_id} is not one of this server's feeds")
    return feed


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not re.match(r"https?://[^/\s]", url, re.IGNORECASE):
        raise FeedError(f"bad feed URL {url!r}: give an http(s) URL of a feed or of a page that links one")
    return url


def _title_of(body: bytes, url: str) -> str | None:
    """The feed's own title (its channel's), without fetching anything else."""
    import feedparser

    from ..sources.cleaning import clean_inline

    parsed = feedparser.parse(body)
    return clean_inline(parsed.feed.get("title")) if parsed.get("feed") else None


def _fetching(engine: Engine, fetcher: Fetcher | None):
    return nullcontext(fetcher) if fetcher is not None else fetcher_for(engine)


def _now() -> float:
    import time

    return time.time()


list = list_feeds  # the contract's name: feeds.list(engine, scope=...)
