"""Lease take-over benchmark: how long once-only work (polling, posting) stays undone after kill -9 of
the process holding its lease, until another process holds it.

    python benchmarks/lease.py                           # SQLite (30 s lease) and PostgreSQL, 3 trials each
    python benchmarks/lease.py --backend sqlite --lease-seconds 9 --trials 5
    python benchmarks/lease.py --backend pg --url postgresql://postgres@127.0.0.1:5432/postgres

Each trial: a holder process takes the lease (index/coordination.py, through a LeaseKeeper as the bot
and `newsbot watch` do), a second process starts and waits for it; at a random moment of the holder's
renewal cycle the holder is killed with SIGKILL, and the time from the kill to the second process
holding the lease is measured (both read the same wall clock: one machine). The SQLite lease is a row of
news.db in a fresh data folder; the PostgreSQL lease an advisory lock on the server at --url (skipped,
saying so, when none answers).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clean clone

from index.config import Settings  # noqa: E402
from index.coordination import LeaseKeeper, PgLease, work_lease  # noqa: E402
from index.storage.store import Store  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def worker(backend: str, where: str, name: str, lease_seconds: float) -> None:
    """Keep the lease until killed, printing `held <time>` / `waiting <time>` as it changes."""
    if backend == "sqlite":
        lease = work_lease(Settings(data_dir=Path(where), lease_seconds=lease_seconds, _env_file=None), name)
    else:
        lease = PgLease(where, name, ttl=lease_seconds * 2 / 3)

    def heard(held: bool, holder: str | None) -> None:
        print(f"{'held' if held else 'waiting'} {time.time():.3f}", flush=True)

    with LeaseKeeper(lease, on_change=heard):
        threading.Event().wait()  # until killed


class Process:
    def __init__(self, backend: str, where: str, name: str, lease_seconds: float) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "worker", backend, where, name]
        self.popen = subprocess.Popen([*command, str(lease_seconds)], stdout=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            with self.changed:
                self.lines.append(line.strip())
                self.changed.notify_all()

    def wait_for(self, word: str, timeout: float = 300.0) -> float:
        """The time the process printed `word` (seconds since the epoch)."""
        with self.changed:
            found = self.changed.wait_for(lambda: any(x.startswith(word) for x in self.lines), timeout)
        if not found:
            raise RuntimeError(f"no '{word}' within {timeout} s (output: {self.lines})")
        return float(next(x for x in self.lines if x.startswith(word)).split()[1])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()


def trial(backend: str, where: str, lease_seconds: float, rng: random.Random) -> float:
    name = f"bench-{os.getpid()}-{rng.randrange(1 << 30)}"
    holder = Process(backend, where, name, lease_seconds)
    survivor = None
    try:
        holder.wait_for("held")
        survivor = Process(backend, where, name, lease_seconds)
        survivor.wait_for("waiting")
        time.sleep(rng.uniform(0, lease_seconds / 3))  # anywhere in the holder's renewal cycle
        killed = time.time()
        holder.popen.kill()
        return survivor.wait_for("held") - killed
    finally:
        holder.stop()
        if survivor is not None:
            survivor.stop()


def pg_reachable(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install newsbot[postgres])"
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        return f"no PostgreSQL server answers at {url} ({error})"
    return None


def run(backend: str, where: str, lease_seconds: float, trials: int, seed: int) -> dict:
    rng = random.Random(seed)
    times = [trial(backend, where, lease_seconds, rng) for _ in range(trials)]
    return {
        "backend": backend,
        "lease_seconds": lease_seconds,
        "trials": trials,
        "take_over_s": [round(t, 2) for t in times],
        "median_s": round(statistics.median(times), 2),
        "max_s": round(max(times), 2),
        "bound_s": round(lease_seconds * 4 / 3, 2),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--lease-seconds", type=float, default=30.0, help="NEWSBOT_LEASE_SECONDS")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--url", default=PG_URL, help="the PostgreSQL server of the pg trials")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="newsbot-lease-") as folder:
            Store(Path(folder) / "news.db").close()  # migrated, as an engine leaves it
            results.append(run("sqlite", folder, args.lease_seconds, args.trials, args.seed))
    if args.backend in ("pg", "both"):
        if problem := pg_reachable(args.url):
            results.append({"backend": "pg", "skipped": problem})
        else:
            results.append(run("pg", args.url, args.lease_seconds, args.trials, args.seed))
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
