"""The poll benchmark, small: its cycles run and count what they should (no timing asserted)."""

from __future__ import annotations

import importlib.util

from tests.benchmarks.test_perf_benchmark import ROOT


def load_poll():
    spec = importlib.util.spec_from_file_location("poll_benchmark", ROOT / "benchmarks" / "poll.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_poll_benchmark(tmp_path, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    results = load_poll().run(
        feeds=12, servers=3, backlog=1, embedder="hash", work_dir=tmp_path, idle_seconds=0.1
    )
    new, same = results["new_entries"], results["no_change"]
    assert (new["requests"], new["new_articles"], new["errors"]) == (12, 12, 0)
    assert (same["requests"], same["not_modified"], same["bytes"], same["new_articles"]) == (12, 12, 0, 0)
    assert new["bytes"] > 0 and new["longest_stall_ms"] >= new["p999_stall_ms"] >= 0
    assert new["stalls_over_50ms"] >= 0 and "longest_stall_ms" in results["idle"]
    assert results["articles"] == 24
