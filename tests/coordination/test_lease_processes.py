"""Two real `newsbot watch` processes on one data folder: only the poll lease's holder polls, and after a
kill -9 of the holder the other takes over once the lease expired (NEWSBOT_LEASE_SECONDS=3 here)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from index.engine import Engine
from index.live import feeds as live_feeds
from tests.helpers.embedders import HashEmbedder
from tests.helpers.feed_server import Feed
from tests.helpers.local_http import serve
from tests.live.conftest import live_settings

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3
DUE_IN = 20.0  # seconds after the set-up until the feed is due: both processes are running by then
TAKE_OVER_BOUND = 60.0  # the bound, far above the 4 s this lease needs


class Watch:
    """`python -m index watch` in a process of its own; its output lines read in a thread."""

    def __init__(self, data_dir: Path, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env |= {
            "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "NEWSBOT_LEASE_SECONDS": str(LEASE_SECONDS),
            "NEWSBOT_FETCH_ALLOW": "127.0.0.1", "NEWSBOT_FETCH_TIMEOUT": "2",
        }  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "index", "watch", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, *texts: str, within: float = 60.0) -> str:
        """The first line containing one of `texts` (AssertionError after `within` seconds)."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if any(text in line for text in texts):
                return line
        raise AssertionError(f"none of {texts} within {within} s; output: {self.seen}")

    def drain(self) -> list[str]:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def test_two_watches_on_one_folder_poll_once_and_the_survivor_takes_over_after_kill_9(tmp_path):
    data_dir = tmp_path / "data"
    with serve() as server:
        site = Feed(server, "/rss.xml", "Local Gazette", [], conditional=False)  # (no entries: no model)
        with Engine(live_settings(data_dir), embedder=HashEmbedder()) as engine:
            feed = live_feeds.add(engine, site.url, scope="operator")
            # Due again once both processes run: each, were it polling, would wake for it then.
            engine.store.feeds.update(feed.id, {"next_due": time.time() + DUE_IN})
        polls_before = site.served

        watches = [Watch(data_dir, tmp_path), Watch(data_dir, tmp_path)]
        try:
            said = [w.wait_for("polls the feeds", "polling the feeds") for w in watches]
            assert site.served == polls_before, "both started before the feed was due"
            assert sorted("polling the feeds" in line for line in said) == [False, True], said
            holder, other = watches if "polling the feeds" in said[0] else watches[::-1]
            holder.wait_for(f"feed {feed.id} ", within=DUE_IN + 30)  # it checked the due feed
            time.sleep(2)  # (the other would have checked it by now, were it polling too)
            assert site.served == polls_before + 1  # once, by the holder
            assert not any(f"feed {feed.id} " in line for line in other.drain())
            with Engine(live_settings(data_dir), embedder=HashEmbedder()) as engine:
                engine.store.feeds.update(feed.id, {"next_due": 0})  # due again, for whoever holds
            holder.process.kill()  # kill -9: no release, the row stays until it expires
            holder.process.wait(timeout=30)
            killed = time.monotonic()
            other.wait_for("polling the feeds", within=TAKE_OVER_BOUND)
            other.wait_for(f"feed {feed.id} ", within=TAKE_OVER_BOUND)  # and it polls at once
            assert time.monotonic() - killed < TAKE_OVER_BOUND
            assert site.served == polls_before + 2
        finally:
            for watch in watches:
                watch.stop()
