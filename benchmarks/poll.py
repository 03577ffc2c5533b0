"""Poll benchmark: many feeds served on 127.0.0.1, one cycle with new entries and one with none.

    python benchmarks/poll.py                      # 1,000 feeds on 50 local servers, HashEmbedder
    python benchmarks/poll.py --real               # the real model embeds the new entries
    python benchmarks/poll.py --feeds 100 --servers 10

Each feed starts with `--backlog` entries, read by a first cycle (not measured: a feed's first poll).
Then every feed gains one entry and a cycle runs (new entries: one request and one article per feed),
then a cycle runs with nothing changed (every feed answers 304). For each cycle: requests, bytes of
the responses' bodies, seconds, and the longest stall of an asyncio event loop running beside it, the
cycle in a worker thread as the bot runs it (a timer that should wake every 5 ms: how late it woke),
and the same loop's stalls beside a thread that only sleeps for 10 s (`idle`: the machine's own noise,
on shared cores). Each: the longest stall, the 99.9th percentile, and the ticks over 50 ms late.
Servers are one per port, in a process of their own: the poller sends one request at a time per
server, a few servers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
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


async def stall_beside(work) -> tuple[object, list[float], float]:
    """Run `work` in a worker thread while a timer ticks on this loop: (its result, how late each
    tick woke, seconds)."""
    loop = asyncio.get_running_loop()
    lateness: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            before = loop.time()
            await asyncio.sleep(TICK)
            lateness.append(loop.time() - before - TICK)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    result = await loop.run_in_executor(None, work)
    seconds = time.perf_counter() - started
    done = True
    await ticking
    return result, lateness, seconds


def stalls(lateness: list[float]) -> dict:
    """The longest stall, the 99.9th percentile and how many ticks woke over 50 ms late (one stall on
    shared cores may be another program's; a stall of this process's own recurs)."""
    ordered = sorted(lateness) or [0.0]
    return {
        "longest_stall_ms": round(ordered[-1] * 1000, 1),
        "p999_stall_ms": round(ordered[int(0.999 * (len(ordered) - 1))] * 1000, 1),
        "stalls_over_50ms": sum(1 for late in ordered if late > 0.050),
    }


def serve_feeds(feeds: int, servers: int, backlog: int) -> None:
    """The feed servers, in a process of their own (as the web is: their work never holds the poller's
    interpreter). Prints the feeds' URLs as one JSON line, then answers stdin: `grow` adds an entry to
    every feed, `stats` prints {"requests", "bytes"} since the previous `stats`."""
    with ExitStack() as stack:
        hosts = [stack.enter_context(serve()) for _ in range(servers)]
        served = []
        for n in range(feeds):
            feed = Counted(hosts[n % servers], f"/feed{n}.xml", f"Outlet {n}")
            feed.entries = [
                Entry(f"f{n}-e{i}", f"Story {i} of outlet {n}", text(n * 1000 + i)) for i in range(backlog)
            ]
            served.append(feed)
        print(json.dumps([feed.url for feed in served]), flush=True)
        counted = 0
        for line in sys.stdin:
            if line.strip() == "grow":
                for n, feed in enumerate(served):
                    feed.entries.append(Entry(f"f{n}-new", f"New story of outlet {n}", text(n * 1000 + 999)))
                print("ok", flush=True)
            elif line.strip() == "stats":
                requests = sum(len(host.requests) for host in hosts)
                print(json.dumps({"requests": requests - counted, "bytes": Counted.sent}), flush=True)
                counted, Counted.sent = requests, 0


class Servers:
    """The feed servers' process."""

    def __init__(self, feeds: int, servers: int, backlog: int) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--feeds", str(feeds),
                   "--servers", str(servers), "--backlog", str(backlog)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.urls = json.loads(self.process.stdout.readline())

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def run(
    feeds: int, servers: int, backlog: int, embedder: str, work_dir: Path, idle_seconds: float = 10.0
) -> dict:
    if embedder == "real":
        from index.embedding.embedder import load_embedder

        model = load_embedder()
    else:
        from tests.helpers.embedders import HashEmbedder

        model = HashEmbedder()
    settings = Settings(data_dir=work_dir / "data", _env_file=None, fetch_allow="127.0.0.1")
    results: dict = {"feeds": feeds, "servers": servers, "backlog_entries": backlog, "embedder": model.name}
    hosts = Servers(feeds, servers, backlog)
    try:
        with Engine(settings, embedder=model) as engine:
            for url in hosts.urls:
                engine.store.feeds.add({"url": url, "scope": "operator", "interval_s": 900, "next_due": 0,
                                        "added_at": "2026-12-02T00:00:00Z"})  # fmt: skip
            poller = Poller(engine)
            engine.warm_up()  # the model and the indexes loaded before the first cycle, as in a running bot
            started = time.perf_counter()
            first = poller.run_once(force=True)
            results["first_cycle"] = {"seconds": round(time.perf_counter() - started, 2), **first.to_json()}
            results["first_cycle"]["errors"] = len(first.errors)
            hosts.ask("stats")
            hosts.ask("grow")
            # The same loop beside a thread that only sleeps: what this machine's load alone costs.
            results["idle"] = stalls(asyncio.run(stall_beside(lambda: time.sleep(idle_seconds)))[1])
            for name in ("new_entries", "no_change"):
                report, lateness, seconds = asyncio.run(stall_beside(lambda: poller.run_once(force=True)))
                results[name] = {
                    **json.loads(hosts.ask("stats")),
                    "seconds": round(seconds, 2),
                    **stalls(lateness),
                    "feeds_checked": report.feeds_checked,
                    "not_modified": report.not_modified,
                    "new_articles": report.new_articles,
                    "errors": len(report.errors),
                }
            results["articles"] = engine.store.counts()["articles"]
    finally:
        hosts.close()
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
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the servers' process
    args = parser.parse_args()
    if args.serve:
        serve_feeds(args.feeds, args.servers, args.backlog)
        return
    with tempfile.TemporaryDirectory(prefix="poll-bench-") as work:
        results = run(args.feeds, args.servers, args.backlog, "real" if args.real else "hash", Path(work))
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
