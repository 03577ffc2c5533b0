"""The poller: checks the feeds that are due and ingests what is new in them.

One check of a feed: a conditional GET (its ETag / Last-Modified: a 304 is no work), its entries read,
those already read in the same version skipped (`feed_entries`), the teasers among the rest completed
from their linked pages, the rest ingested (scope = the feed's scope, via = "feed:<id>"), each entry
recorded once its article committed, then the feed's validators, health and next due time. A kill at
any point loses nothing: an entry whose article committed but whose record did not is read again next
time and found stored by ingest (a duplicate, never a second copy); the validators are saved last, so
a feed whose check was cut short is fetched in full again.

Feeds are checked a few at once (`max_concurrency`), one at a time per host. Everything takes its time
from `now` (seconds since the epoch), so tests drive schedules with a clock of their own.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ..engine import Engine
from ..models import ArticleDraft, Skipped
from ..sources.feeds import complete_teasers, parse_feed
from ..sources.fetch import FetchedPage, Fetcher, FetchError
from ..text import canonical_url, content_hash
from . import schedule
from .records import Feed

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Progress = Callable[["Feed", "CycleReport"], None]
# Skips that say nothing about the entry itself: it is read again next time.
_TRANSIENT = ("could not be stored", "changed by other writers")
_IDLE_WAIT = 60.0  # longest sleep of run_forever: a feed added by another process is picked up soon
_LEASE_WAIT = 1.0  # how often a poller without the lease looks whether its keeper took it


@dataclass
class CycleReport:
    feeds_checked: int = 0
    not_modified: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    errors: list[dict] = field(default_factory=list)  # {"feed": id, "url", "reason"}

    def to_json(self) -> dict:
        return {
            "feeds_checked": self.feeds_checked,
            "not_modified": self.not_modified,
            "new_articles": self.new_articles,
            "errors": [{"feed": e["feed"], "reason": e["reason"]} for e in self.errors],
        }

    def merge(self, other: CycleReport) -> None:
        self.feeds_checked += other.feeds_checked
        self.not_modified += other.not_modified
        self.new_articles += other.new_articles
        self.updated_articles += other.updated_articles
        self.errors.extend(other.errors)


def fetcher_for(engine: Engine) -> Fetcher:
    """A Fetcher with the engine's settings: its address rules, deadline and size cap."""
    s = engine.settings
    return Fetcher(
        timeout=s.fetch_timeout,
        max_bytes=s.fetch_max_bytes,
        user_agent=s.user_agent,
        allow=s.fetch_allow_list,
    )


class Poller:
    """Checks due feeds. Thread-safe for one cycle at a time (`run_once` waits for a running one)."""

    def __init__(
        self,
        engine: Engine,
        *,
        now: Clock = time.time,
        max_concurrency: int = 4,
        fetcher: Fetcher | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.now = now
        self.max_concurrency = max(1, max_concurrency)
        self._fetcher = fetcher
        self._rng = rng or random.Random()
        self._cycle = threading.Lock()
        # Requests wait on the network, a few at once; reading and ingesting feeds is CPU work in
        # Python, one feed at a time: each thread that wants the interpreter makes the bot's event
        # loop wait longer for its turn (benchmarks/poll.py measures that stall).
        self._working = threading.Lock()

    # -- cycles ---------------------------------------------------------------------------------

    def run_once(
        self,
        force: bool = False,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> CycleReport:
        """Check every feed that is due (every unpaused one when `force`), a few at once, one at a time
        per host; `progress` hears of each feed checked (from the worker threads). Once `stop` is set,
        no further feed is started (those left stay due)."""
        with self._cycle:
            due = [Feed.from_row(row) for row in self.engine.store.feeds.due(self.now(), force=force)]
            report = CycleReport()
            if not due:
                return report
            by_host: dict[str, list[Feed]] = defaultdict(list)
            for feed in due:
                by_host[_origin(feed.url)].append(feed)
            merged = threading.Lock()

            def one_host(queue: list[Feed], fetcher: Fetcher) -> None:
                for feed in queue:
                    if stop is not None and stop.is_set():
                        return
                    result = self._check(feed, fetcher)
                    with merged:
                        report.merge(result)
                    if progress is not None:
                        progress(feed, result)

            with (
                self._using_fetcher() as fetcher,
                ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="newsbot-poll") as pool,
            ):
                for done in [pool.submit(one_host, queue, fetcher) for queue in by_host.values()]:
                    done.result()
            return report

    def poll_feed(self, feed_id: int, *, page: FetchedPage | None = None) -> CycleReport:
        """Check one feed now, whatever its schedule (`page`: the feed as just fetched, not fetched again)."""
        row = self.engine.store.feeds.get(feed_id)
        if row is None:
            raise KeyError(feed_id)
        with self._using_fetcher() as fetcher:
            return self._check(Feed.from_row(row), fetcher, page=page)

    def run_forever(
        self,
        stop: threading.Event,
        *,
        on_cycle: Callable[[CycleReport], None] | None = None,
        progress: Progress | None = None,
        may_run: Callable[[], bool] | None = None,
    ) -> None:
        """Cycles until `stop` is set, sleeping until the next feed is due (at most a minute, at least
        a second: never a tight loop, even when a clock or a schedule is off). With `may_run` (this
        process holds the polling lease, index/coordination.py), a cycle starts only while it says so."""
        while not stop.is_set():
            if may_run is not None and not may_run():
                stop.wait(_LEASE_WAIT)
                continue
            try:
                report = self.run_once(progress=progress, stop=stop)
                if on_cycle is not None and report.feeds_checked:
                    on_cycle(report)
            except Exception:  # a bad cycle (say, the disk is full) is retried, never ends the poller
                log.exception("poll cycle failed")
                self.engine.metrics.failed("poll")
            stop.wait(self.seconds_to_next())

    def seconds_to_next(self) -> float:
        due = self.engine.store.feeds.next_due()
        if due is None:
            return _IDLE_WAIT
        return min(max(due - self.now(), 1.0), _IDLE_WAIT)

    def _using_fetcher(self):
        from contextlib import nullcontext

        return nullcontext(self._fetcher) if self._fetcher is not None else fetcher_for(self.engine)

    # -- one feed -------------------------------------------------------------------------------

    def _check(self, feed: Feed, fetcher: Fetcher, *, page: FetchedPage | None = None) -> CycleReport:
        report = CycleReport(feeds_checked=1)
        started = self.now()
        try:
            if page is None:
                page = fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        except FetchError as error:
            return self._failed(feed, report, started, error.reason, error.retry_after)
        if page.not_modified:
            report.not_modified = 1
            self._succeeded(feed, started, page, title=None, new=False)
            return report
        try:
            with self._working:  # see __init__
                title, added, updated = self._ingest(feed, page, fetcher)
        except _NotAFeed as problem:
            return self._failed(feed, report, started, str(problem), None)
        except Exception as error:  # one feed's trouble (a full disk, say) never ends the cycle
            log.exception("feed %s (%s): could not be ingested", feed.id, feed.url)
            return self._failed(feed, report, started, f"could not be ingested ({error})", None)
        report.new_articles, report.updated_articles = added, updated
        self._succeeded(feed, started, page, title=title, new=added > 0)
        return report

    def _ingest(self, feed: Feed, page: FetchedPage, fetcher: Fetcher) -> tuple[str | None, int, int]:
        """Ingest the feed's new and changed entries; (feed title, articles added, articles updated)."""
        s = self.engine.settings
        items = list(
            parse_feed(
                page.body, feed.url, base_url=page.url, content_type=page.content_type,
                fetch_linked=False, max_entries=s.feed_max_entries,
            )
        )  # fmt: skip
        drafts = [item for item in items if isinstance(item, ArticleDraft)]
        if not drafts:
            reasons = [item.reason for item in items if isinstance(item, Skipped)]
            if reasons and reasons[0] != "feed has no entries":
                raise _NotAFeed(reasons[0])
            return None, 0, 0
        seen = self.engine.store.feeds.entries(feed.id)
        fresh = [
            (d, key, version) for d in drafts for key, version in [_identity(d)] if seen.get(key) != version
        ]
        if not fresh:
            return drafts[0].source, 0, 0
        completed = complete_teasers(
            [d for d, _, _ in fresh], fetcher if s.fetch_linked else None, feed.url, s.feed_max_linked
        )
        completed = [
            replace(d, fetched_from=d.fetched_from or page.url, feed=feed.url)
            if isinstance(d, ArticleDraft)
            else d
            for d in completed
        ]
        ingested = self.engine.ingest_items(completed, scope=feed.scope, via=f"feed:{feed.id}")
        skipped = {item.source: item.reason for item in ingested.skipped}
        first_poll = feed.last_ok is None  # its entries are the backlog: indexed, not posted
        at = schedule.iso(self.now())
        for (_, key, version), item in zip(fresh, completed, strict=True):
            reason = item.reason if isinstance(item, Skipped) else skipped.get(item.origin)
            if reason and any(t in reason for t in _TRANSIENT):
                continue  # read again next time
            article_id = None if reason or isinstance(item, Skipped) else self._stored_id(item)
            self.engine.store.feeds.record_entry(feed.id, key, version, article_id, at, backlog=first_poll)
        return drafts[0].source, ingested.added, ingested.updated

    def _stored_id(self, draft: ArticleDraft) -> str | None:
        """The id of the article ingest stored (or found) for this draft: by its URL and text."""
        text_hash = content_hash(draft.body.strip())
        at_url, with_text = self.engine.store.observe(canonical_url(draft.url), text_hash)
        if at_url and at_url[1] == text_hash:
            return at_url[0]
        return with_text

    def _succeeded(
        self, feed: Feed, started: float, page: FetchedPage, *, title: str | None, new: bool
    ) -> None:
        at = schedule.iso(started)
        fields = {
            "last_checked": at,
            "last_ok": at,
            "last_error": None,
            "failures": 0,
            "broken": 0,
            "next_due": schedule.after_success(self.now(), feed.interval_s, self._rng),
        }
        if not page.not_modified:  # a 304 may omit them: the ones sent stay valid
            fields |= {"etag": page.etag, "last_modified": page.last_modified}
        if new:
            fields["last_new"] = at
        if title and not feed.title:
            fields["title"] = title
        self.engine.store.feeds.update(feed.id, fields)

    def _failed(
        self, feed: Feed, report: CycleReport, started: float, reason: str, retry_after: str | None
    ) -> CycleReport:
        failures = feed.failures + 1
        wait = schedule.retry_after_seconds(retry_after, started)
        log.warning("feed %s (%s): %s (failure %d)", feed.id, feed.url, reason, failures)
        self.engine.metrics.failed("feed")
        self.engine.store.feeds.update(
            feed.id,
            {
                "last_checked": schedule.iso(started),
                "last_error": reason,
                "failures": failures,
                "broken": int(failures >= schedule.BROKEN_AFTER),
                "next_due": schedule.after_failure(self.now(), feed.interval_s, failures, self._rng, wait),
            },
        )
        report.errors.append({"feed": feed.id, "url": feed.url, "reason": reason})
        return report


class _NotAFeed(Exception):
    """What was fetched has no entries to read (an HTML page, broken XML)."""


def _origin(url: str) -> str:
    """Where one request at a time goes: the server (host and port) a feed is on."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"


def _identity(draft: ArticleDraft) -> tuple[str, str]:
    """(key, version) of a feed entry: the key stays the same across polls (its link, else its text),
    the version changes when the entry's text does."""
    url = canonical_url(draft.url)
    key = url or "text:" + content_hash(f"{draft.title}\n{draft.body}")
    return key, content_hash(f"{draft.title}\n{draft.published}\n{draft.body}")
