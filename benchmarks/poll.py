"""Poll benchmark: many feeds served on 127.0.0.1, one cycle with new entries and one with none.

    python benchmarks/poll.py                      # 1,000 feeds on 50 local servers, HashEmbedder
    python benchmarks/poll.py --real               # the real model embeds the new entries
    python benchmarks/poll.py --feeds 100 --servers 10

Each feed starts with `--backlog` entries, read by a first cycle (not measured: a feed's first poll).
Then every feed gains one entry and a cycle runs (new entries: one request and one article per feed),
then a cycle runs with nothing changed (every feed answers 304). For each cycle: requests, bytes of
the responses' bodies, seconds, and the longest stall of an asyncio event loop running beside it, the
cycle in a worker thread as the bot runs it (a timer that should wake every 5 ms: how late it woke).
Servers are one per port: the poller sends one request at a time per server, a few servers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clean clone

from index.config import Settings  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.live import Poller  # noqa: E402
from index.runtime import tune_process  # noqa: E402
from tests.helpers.feed_server import Entry, Feed, text  # noqa: E402
from tests.helpers.local_http import serve  # noqa: E402

TICK = 0.005


class Counted(Feed):
    """A served feed that counts the bytes of the bodies it answers with."""

    sent = 0
    lock = threading.Lock()

    def answer(self, headers):
        response = super().answer(headers)
        with Counted.lock:
            Counted.sent += len(response.body)
        return response


async def stall_beside(work) -> tuple[object, float, float]:
    """Run `work` in a worker thread while a timer ticks on this loop: (its result, the longest
    lateness of a tick, seconds)."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        while not done:
            before = loop.time()
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - before - TICK)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    result = await loop.run_in_executor(None, work)
    seconds = time.perf_counter() - started
    done = True
    await ticking
    return result, worst, seconds


def requests_served(servers) -> int:
    return sum(len(s.requests) for s in servers)


def run(feeds: int, servers: int, backlog: int, embedder: str, work_dir: Path) -> dict:
    if embedder == "real":
        from index.embedding.embedder import load_embedder

        model = load_embedder()
    else:
        from tests.helpers.embedders import HashEmbedder

        model = HashEmbedder()
    settings = Settings(data_dir=work_dir / "data", _env_file=None, fetch_allow="127.0.0.1")
    results: dict = {"feeds": feeds, "servers": servers, "backlog_entries": backlog, "embedder": model.name}
    with ExitStack() as stack, Engine(settings, embedder=model) as engine:
        hosts = [stack.enter_context(serve()) for _ in range(servers)]
        served = []
        for n in range(feeds):
            feed = Counted(hosts[n % servers], f"/feed{n}.xml", f"Outlet {n}")
            feed.entries = [
                Entry(f"f{n}-e{i}", f"Story {i} of outlet {n}", text(n * 1000 + i)) for i in range(backlog)
            ]
            served.append(feed)
            engine.store.feeds.add({"url": feed.url, "scope": "operator", "interval_s": 900, "next_due": 0,
                                    "added_at": "2026-12-02T00:00:00Z"})  # fmt: skip
        poller = Poller(engine)
        engine.vectors  # noqa: B018 - loaded before the first cycle, as in a running bot
        started = time.perf_counter()
        first = poller.run_once(force=True)
        results["first_cycle"] = {"seconds": round(time.perf_counter() - started, 2), **first.to_json()}
        results["first_cycle"]["errors"] = len(first.errors)
        for feed in served:
            n = int(feed.path.removeprefix("/feed").removesuffix(".xml"))
            feed.entries.append(Entry(f"f{n}-new", f"New story of outlet {n}", text(n * 1000 + 999)))
        for name in ("new_entries", "no_change"):
            Counted.sent, before = 0, requests_served(hosts)
            report, stall, seconds = asyncio.run(stall_beside(lambda: poller.run_once(force=True)))
            results[name] = {
                "requests": requests_served(hosts) - before,
                "bytes": Counted.sent,
                "seconds": round(seconds, 2),
                "longest_stall_ms": round(stall * 1000, 1),
                "feeds_checked": report.feeds_checked,
                "not_modified": report.not_modified,
                "new_articles": report.new_articles,
                "errors": len(report.errors),
            }
        results["articles"] = engine.store.counts()["articles"]
    return results


def main() -> None:
    tune_process()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--backlog", type=int, default=2, help="entries each feed holds before the cycles")
    parser.add_argument("--real", action="store_true", help="the real model instead of the HashEmbedder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="poll-bench-") as work:
        results = run(args.feeds, args.servers, args.backlog, "real" if args.real else "hash", Path(work))
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
