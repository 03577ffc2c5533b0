"""What an operator watches of each process: Prometheus metrics and a health check over HTTP.

`Metrics` is the engine's (`engine.metrics`): counters the engine and the bot add to (questions by
outcome, answer latency, articles ingested by result, errors by kind) in a registry of its own, and,
read when scraped, each feed's poll lag and the work leases this process keeps. `metrics_endpoint`
serves them on 127.0.0.1:NEWSBOT_METRICS_PORT (`/metrics`, Prometheus text format; `/healthz`), off
when the port is unset. Nothing here knows Discord: the bot only reports its refusals and errors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

OUTCOMES = ("answered", "abstained", "refused", "error")
INGEST_RESULTS = ("added", "updated", "duplicate", "skipped")
# Seconds: extractive answers take tens of milliseconds; a cold model or a generative answer, seconds.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)


class Metrics:
    """One process's counters, in a registry of its own (two engines in one process never mix)."""

    def __init__(self, *, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "newsbot_questions", "Questions by outcome.", ["outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "newsbot_answer_seconds",
            "Time to answer a question (answered or abstained).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ingested = Counter(
            "newsbot_ingest_articles", "Articles ingested, by result.", ["result"], registry=self.registry
        )
        self.errors = Counter("newsbot_errors", "Errors, by kind.", ["kind"], registry=self.registry)
        for outcome in OUTCOMES:  # every series from the start: a rate over a missing series is no rate
            self.questions.labels(outcome)
        for result in INGEST_RESULTS:
            self.ingested.labels(result)
        self._feeds: Callable[[], list[dict]] | None = None
        self._leases: dict[str, Any] = {}  # lease name -> its LeaseKeeper (index/coordination.py)
        self._lock = threading.Lock()
        self.registry.register(_ReadAtScrape(self))

    # -- what the engine and the bot report ------------------------------------------------------

    def answered(self, *, abstained: bool, seconds: float) -> None:
        self.questions.labels("abstained" if abstained else "answered").inc()
        self.latency.observe(seconds)

    def refused(self) -> None:
        """A question refused for now (the member's cooldown, or every slot busy)."""
        self.questions.labels("refused").inc()

    def failed(self, kind: str) -> None:
        """An error of `kind` ("answer", "feed", "post", …); a failed answer also counts as a question."""
        if kind == "answer":
            self.questions.labels("error").inc()
        self.errors.labels(kind).inc()

    def ingest_report(self, added: int, updated: int, duplicates: int, skipped: int) -> None:
        for result, count in zip(INGEST_RESULTS, (added, updated, duplicates, skipped), strict=True):
            if count:
                self.ingested.labels(result).inc(count)

    # -- what is read when scraped ---------------------------------------------------------------

    def follow_feeds(self, feeds: Callable[[], list[dict]]) -> None:
        """Report each feed's poll lag, read from `feeds` (the store's feed rows) at each scrape."""
        self._feeds = feeds

    def track_lease(self, keeper: Any) -> None:
        with self._lock:
            self._leases[keeper.lease.name] = keeper

    def untrack_lease(self, keeper: Any) -> None:
        with self._lock:
            if self._leases.get(keeper.lease.name) is keeper:
                del self._leases[keeper.lease.name]

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def poll_lag(row: dict, now: float) -> float:
    """Seconds a feed is late: now, less its last check (or its addition) and its interval; 0 if on time."""
    checked = row.get("last_checked") or row.get("added_at")
    if not checked:
        return 0.0
    at = dt.datetime.fromisoformat(checked.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return max(0.0, now - at.timestamp() - float(row["interval_s"]))


class _ReadAtScrape:
    """The gauges read when scraped: feeds' poll lag and the leases (a collector of the registry)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._lag()
        yield from self._leases()

    def _lag(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "newsbot_poll_lag_seconds",
            "How late each unpaused feed's check is: now - last check - its interval (0: on time).",
            labels=["feed", "url"],
        )
        if self.metrics._feeds is not None:
            try:
                rows = self.metrics._feeds()
            except Exception as error:  # the store is unwell: the scrape still answers, without lag
                log.warning("metrics: feeds could not be read (%s)", error)
                rows = []
            now = self.metrics.now()
            for row in rows:
                if not row.get("paused"):
                    lag.add_metric([str(row["id"]), row["url"]], poll_lag(row, now))
        yield lag

    def _leases(self) -> Iterator[GaugeMetricFamily]:
        held = GaugeMetricFamily(
            "newsbot_lease_held",
            "1 if this process holds the lease of this once-only work, else 0.",
            labels=["lease", "process"],
        )
        holder = GaugeMetricFamily(
            "newsbot_lease_holder",
            "The process holding each lease this process competes for (1 per holder; none if free).",
            labels=["lease", "holder"],
        )
        with self.metrics._lock:
            keepers = list(self.metrics._leases.values())
        for keeper in keepers:
            lease = keeper.lease
            held.add_metric([lease.name, lease.holder_id], 1.0 if keeper.held() else 0.0)
            try:
                who = lease.holder_id if keeper.held() else lease.holder()
            except Exception:  # its database is unreachable: who holds it is unknown here
                who = None
            if who:
                holder.add_metric([lease.name, who], 1.0)
        yield held
        yield holder


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, self.server.metrics.render(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            problem = self.server.health()
            body = (problem or "ok").encode() + b"\n"
            self._reply(503 if problem else 200, body, "text/plain; charset=utf-8")
        else:
            self._reply(404, b"/metrics or /healthz\n", "text/plain; charset=utf-8")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # scrapes every few seconds: not logged
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, health: Callable[[], str | None]):
        super().__init__(address, _Handler)
        self.metrics = metrics
        self.health = health


@contextlib.contextmanager
def serve(
    metrics: Metrics, host: str, port: int, health: Callable[[], str | None] = lambda: None
) -> Iterator[tuple[str, int]]:
    """Serve `/metrics` and `/healthz` (`health` returns a problem, or None when well) in a thread
    for the block; yields the address listened on (port 0: any free port)."""
    server = _Server((host, port), metrics, health)
    thread = threading.Thread(target=server.serve_forever, name="newsbot-metrics", daemon=True)
    thread.start()
    log.info("metrics on http://%s:%d/metrics", *server.server_address[:2])
    try:
        yield server.server_address[:2]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
