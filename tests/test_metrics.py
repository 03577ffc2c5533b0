"""The metrics endpoint (index/metrics.py): Prometheus text over HTTP on 127.0.0.1, a health check, and
the gauges read at scrape time (poll lag, lease holders)."""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from index.config import Settings
from index.coordination import LeaseKeeper, SqliteLease
from index.engine import Engine
from index.metrics import Metrics, poll_lag, serve
from tests.helpers.embedders import HashEmbedder


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(address: tuple[str, int], path: str = "/metrics") -> httpx.Response:
    with httpx.Client(trust_env=False) as client:
        return client.get(f"http://{address[0]}:{address[1]}{path}", timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_poll_lag_is_the_time_past_the_interval_since_the_last_check():
    row = {"last_checked": "2026-12-03T10:00:00+00:00", "interval_s": 900, "added_at": "2026-12-01T00:00:00Z"}
    at = 1_796_292_000.0  # 2026-12-03T10:00:00Z
    assert poll_lag(row, at + 600) == 0.0  # within its interval
    assert poll_lag(row, at + 1000) == 100.0
    never = {"last_checked": None, "interval_s": 900, "added_at": "2026-12-03T10:00:00Z"}
    assert poll_lag(never, at + 960) == 60.0  # never checked: late since it was added


def test_counters_are_served_with_health_and_nothing_else():
    metrics = Metrics()
    metrics.answered(abstained=False, seconds=0.04)
    metrics.answered(abstained=True, seconds=0.3)
    metrics.refused()
    metrics.failed("answer")
    metrics.failed("feed")
    metrics.ingest_report(added=2, updated=1, duplicates=3, skipped=0)
    problems = []
    with serve(metrics, "127.0.0.1", 0, lambda: problems[-1] if problems else None) as address:
        assert address[0] == "127.0.0.1"
        reply = scrape(address)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
        got = samples(reply.text)
        health = scrape(address, "/healthz")
        problems.append("the store does not answer")
        sick = scrape(address, "/healthz")
        missing = scrape(address, "/other")
    q = "newsbot_questions_total"
    assert [got[(q, (("outcome", o),))] for o in ("answered", "abstained", "refused", "error")] == [
        1,
        1,
        1,
        1,
    ]
    assert got[("newsbot_answer_seconds_count", ())] == 2
    assert got[("newsbot_answer_seconds_bucket", (("le", "0.05"),))] == 1
    i = "newsbot_ingest_articles_total"
    assert [got[(i, (("result", r),))] for r in ("added", "updated", "duplicate", "skipped")] == [2, 1, 3, 0]
    assert got[("newsbot_errors_total", (("kind", "feed"),))] == 1
    assert (health.status_code, health.text) == (200, "ok\n")
    assert sick.status_code == 503 and "does not answer" in sick.text
    assert missing.status_code == 404


def test_the_engine_serves_only_when_a_port_is_set_and_reports_its_leases(tmp_path):
    off = Settings(data_dir=tmp_path / "off", _env_file=None)
    with Engine(off, embedder=HashEmbedder()) as engine, engine.metrics_endpoint() as address:
        assert address is None
    on = Settings(data_dir=tmp_path / "on", metrics_port=free_port(), _env_file=None)
    with Engine(on, embedder=HashEmbedder()) as engine:
        rival = SqliteLease(on.db_path, "poll", holder="elsewhere:7:ab")
        assert rival.acquire()
        with LeaseKeeper(SqliteLease(on.db_path, "poll", holder="here:1:cd")) as keeper:
            engine.metrics.track_lease(keeper)
            with engine.metrics_endpoint() as address:
                assert address == ("127.0.0.1", on.metrics_port)
                got = samples(scrape(address).text)
                assert scrape(address, "/healthz").status_code == 200
        rival.close()
    assert got[("newsbot_lease_held", (("lease", "poll"), ("process", "here:1:cd")))] == 0
    assert got[("newsbot_lease_holder", (("holder", "elsewhere:7:ab"), ("lease", "poll")))] == 1


def test_a_taken_port_is_an_oserror(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = Settings(data_dir=tmp_path, metrics_port=taken.getsockname()[1], _env_file=None)
        with Engine(settings, embedder=HashEmbedder()) as engine, pytest.raises(OSError):
            engine.metrics_endpoint().__enter__()
