"""A poll cycle killed with SIGKILL loses nothing, and polling again stores nothing twice: the fault
benchmark's poll trial (benchmarks/faults.py), its worker a real process on the HashEmbedder."""

from __future__ import annotations

import pytest

from tests.conftest import bundled_articles
from tests.engine.test_processes import faults
from tests.helpers.embedders import HashEmbedder


@pytest.mark.parametrize(("kill_after", "delay"), [(1, 0.0), (3, 0.02)])
def test_kill_9_during_a_poll_cycle_loses_nothing_and_repolling_doubles_nothing(tmp_path, kill_after, delay):
    rows = bundled_articles()[:24]
    data_dir = tmp_path / "data"
    result = faults.poll_trial(data_dir, rows, "hash", HashEmbedder(), kill_after, delay)
    assert result["acked"] >= kill_after and result["killed"]
    assert result["problems"] == []
    # Again in the same folder: the same articles, a few as new versions, from new feeds.
    changed = [{**r, "body": r["body"] + " Updated."} if i % 5 == 0 else r for i, r in enumerate(rows)]
    again = faults.poll_trial(data_dir, changed, "hash", HashEmbedder(), kill_after, 0.0)
    assert again["problems"] == []


def test_another_process_polling_is_answered_by_a_running_engine(tmp_path):
    """`newsbot poll --once` (here the fault worker's poll job: same store, the HashEmbedder) in another
    process: a running engine searches its articles without a restart."""
    from index.engine import Engine
    from index.live import feeds as live_feeds
    from tests.helpers.feed_server import Feed
    from tests.helpers.local_http import serve
    from tests.live.conftest import entries, live_settings

    with serve() as server, Engine(live_settings(tmp_path / "data"), embedder=HashEmbedder()) as engine:
        site = Feed(server, "/rss.xml", "Local Gazette", entries(1, 2))
        live_feeds.add(engine, site.url, scope="operator")
        assert {h.url for h in engine.search("story", k=10)} == {site.link(e) for e in site.entries}
        site.entries.extend(entries(80, 2))
        worker = faults.start("poll", tmp_path / "data", None, "hash")
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0 and '"new_articles": 2' in out, out
        for entry in site.entries[2:]:
            hits = engine.search(entry.body.split(".")[0], k=1)
            assert hits and hits[0].url == site.link(entry)
