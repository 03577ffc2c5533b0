"""Fault trials: kill -9 at random points of `ingest` and `reindex`, then check what is left.

Each trial starts a worker process on a data folder (the bundled news, `news/articles.jsonl`, or a
part of it), waits until it has loaded, kills it with SIGKILL at a random moment of its work, and
checks the folder: `PRAGMA integrity_check` is ok; every article the worker acknowledged (an `ack N`
line it printed after the N-th item's transaction committed) is stored; nothing is stored twice; the
full-text table holds every passage; the saved vector index loads, and once loaded (caught up from
the change log) holds exactly SQLite's passages; the keyword index holds none that SQLite lost; a
search works. Trials run in a few folders one after another, so later ones start from what a crash
left. Pairs of ingests at once into one folder are a trial kind too (racing duplicates), and so is a
feed poller's cycle (`poll`): the trial's articles served as feeds on 127.0.0.1, a cycle killed after a
random number of feeds checked (`ack N`: N feeds' entries committed), then a second cycle must store
every entry, none twice.

    python benchmarks/faults.py                     # 24 trials, HashEmbedder (deterministic, fast)
    python benchmarks/faults.py --trials 40 --real  # the real model (each worker loads it)

A new kind of work (a feed poller's cycle) is one more entry in JOBS plus its branch in `work`.
The worker is this file too: `python benchmarks/faults.py worker JOB DATA_DIR [SOURCE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clean clone

from index.config import Settings  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.models import ArticleDraft  # noqa: E402
from index.retrieval.vectors import VectorIndex  # noqa: E402
from index.runtime import tune_process  # noqa: E402
from index.sources.records import record_to_draft  # noqa: E402
from index.storage.store import Store  # noqa: E402
from index.text import canonical_url, content_hash  # noqa: E402

NEWS = ROOT / "news" / "articles.jsonl"
JOBS = ("ingest", "reindex", "reindex-full", "ingest-pair", "ingest-stats", "poll")
POLL_FEEDS = 4  # a poll trial serves its articles as this many feeds on 127.0.0.1


def embedder_for(kind: str):
    if kind == "real":
        from index.embedding.embedder import load_embedder

        return load_embedder()
    from tests.helpers.embedders import HashEmbedder

    return HashEmbedder()


# -- the worker -------------------------------------------------------------------------------------


def say(*words: object) -> None:
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()


def work(job: str, data_dir: Path, source: str | None, embedder: str) -> None:
    """Run one job, printing `ready` once loaded and `ack N` as the N-th item is committed."""
    settings = Settings(data_dir=data_dir, _env_file=None, fetch_allow="127.0.0.1")
    with Engine(settings, embedder=embedder_for(embedder)) as engine:
        engine.vectors  # noqa: B018 - loaded first: the kill lands in the work itself
        say("ready")
        if job == "ingest":
            report = engine.ingest(
                [source],
                progress=lambda stage, done, _t: stage == "ingest" and say("ack", done),
                fetch_linked=False,
            )
            say("done", json.dumps(report.to_json()))
        elif job in ("reindex", "reindex-full"):
            engine.reindex(full=job == "reindex-full", progress=lambda stage, done, _t: say(stage, done))
            say("done")
        elif job == "poll":
            from index.live import Poller

            done = iter(range(1, 10**6))
            report = Poller(engine, max_concurrency=2).run_once(
                force=True, progress=lambda feed, _result: say("ack", next(done), feed.id)
            )
            say("done", json.dumps(report.to_json()))
        elif job == "serve":
            serve(engine)
        else:
            raise SystemExit(f"unknown job {job!r}")


def serve(engine: Engine) -> None:
    """A long-lived engine like the bot's: searches until stdin closes, and on a `state` line prints
    what its live index holds against SQLite."""
    import threading

    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            engine.search("court trial witnesses", k=5)
            time.sleep(0.01)

    thread = threading.Thread(target=searching, daemon=True)
    thread.start()
    for line in sys.stdin:
        if line.strip() == "state":
            ids = sorted(engine.vectors.ids().tolist())
            say(
                "state",
                json.dumps({"vectors": ids == sorted(engine.store.chunk_ids().tolist()), "count": len(ids)}),
            )
    stop.set()
    thread.join()


# -- the trials -------------------------------------------------------------------------------------


def records(path: Path = NEWS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def worker_command(job: str, data_dir: Path, source: Path | None, embedder: str) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", job, str(data_dir)]
    return command + ([str(source)] if source else []) + ["--embedder", embedder]


def start(job: str, data_dir: Path, source: Path | None, embedder: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        worker_command(job, data_dir, source, embedder),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_ready(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"the worker did not start: {line!r}")


def acknowledged(lines: list[str]) -> int:
    return max((int(line.split()[1]) for line in lines if line.startswith("ack ")), default=0)


def newsbot_stats(data_dir: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "index", "stats", "--json", "--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, env=env, check=False).returncode == 0


def timed(job: str, data_dir: Path, source: Path | None, embedder: str) -> float:
    """Seconds a job's work takes uninterrupted (from `ready` to exit), to pick kill points in."""
    process = start(job, data_dir, source, embedder)
    wait_ready(process)
    began = time.perf_counter()
    process.communicate()
    return time.perf_counter() - began


def check(data_dir: Path, acked: list[dict], embedder) -> list[str]:
    """What is wrong with the folder after a crash: empty when nothing is."""
    problems = []
    db = data_dir / "news.db"
    with sqlite3.connect(db) as conn:
        if (result := conn.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
            problems.append(f"integrity_check: {result}")
        for column in ("canonical_url", "content_hash"):
            twice = conn.execute(
                f"SELECT count(*) FROM (SELECT {column} FROM articles WHERE {column} IS NOT NULL "
                f"GROUP BY {column} HAVING count(*) > 1)"
            ).fetchone()[0]
            if twice:
                problems.append(f"{twice} {column}s stored twice")
        chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        if chunks != fts:
            problems.append(f"{chunks} passages but {fts} full-text rows")
    conn.close()
    store = Store(db)
    try:
        for record in acked:
            draft = record_to_draft(record, record["id"])
            if isinstance(draft, ArticleDraft):
                url = canonical_url(draft.url)
                text_hash = content_hash(draft.body.strip())
                at_url, with_text = store.observe(url, text_hash)
                if not (at_url and at_url[1] == text_hash) and with_text is None:
                    problems.append(f"acknowledged {record['id']} is missing")
        if store.articles_without_chunks():
            problems.append("main articles without passages")
    finally:
        store.close()
    settings = Settings(data_dir=data_dir, _env_file=None)
    saved = VectorIndex.load(settings.index_dir, embedder.name, embedder.dimension)  # loads, or raises
    with Engine(settings, embedder=embedder) as engine:
        ids, stored = set(engine.vectors.ids().tolist()), set(engine.store.chunk_ids().tolist())
        if ids != stored:
            problems.append(f"index holds {len(ids - stored)} passages too many, misses {len(stored - ids)}")
        impacts = engine.store.impacts
        if impacts is not None and not set(impacts.chunk_ids[impacts.alive].tolist()) <= stored:
            problems.append("the keyword index serves passages SQLite no longer holds")
        engine.search("court trial witnesses", k=5)
    if saved is not None and saved.seq is None:
        problems.append("the saved index records no change log position")
    return problems


def stored(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "news.db") as conn:
        count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    return count


def spans(corpus: Path, embedder: str) -> dict[str, float]:
    """Seconds each job's work takes uninterrupted on this machine, in a scratch folder: kill points
    are drawn from them."""
    with tempfile.TemporaryDirectory(prefix="faults-scratch-") as scratch:
        folder = Path(scratch)
        ingest = timed("ingest", folder, corpus, embedder)
        found = {"ingest": ingest, "ingest-pair": 1.5 * ingest, "ingest-stats": ingest}
        for job in ("reindex", "reindex-full"):
            found[job] = timed(job, folder, None, embedder)
    return found


def trial(
    job: str, data_dir: Path, corpus: Path, rows: list[dict], embedder: str, checker, kill: tuple
) -> dict:
    """One job (or two ingests at once) killed with SIGKILL, then the folder checked. `kill` is
    ("after", seconds into the work) or ("ack", n, seconds after the n-th acknowledgement)."""
    count = 2 if job == "ingest-pair" else 1
    command = "ingest" if job.startswith("ingest") else job
    processes = [
        start(command, data_dir, corpus if command == "ingest" else None, embedder) for _ in range(count)
    ]
    for process in processes:
        wait_ready(process)
    seen: list[str] = []
    if kill[0] == "ack":
        asked = job != "ingest-stats"  # `newsbot stats` from a shell halfway, as an admin would
        while (line := processes[0].stdout.readline()) and line.strip() != f"ack {kill[1]}":
            seen.append(line)
            if not asked and line.startswith("ack ") and int(line.split()[1]) >= kill[1] // 2:
                asked = newsbot_stats(data_dir)
        seen.append(line)
    time.sleep(kill[-1])
    alive = [process.poll() is None for process in processes]
    for process, running in zip(processes, alive, strict=True):
        if running:
            os.kill(process.pid, signal.SIGKILL)
    outputs = [process.communicate()[0].splitlines() for process in processes]
    outputs[0] = [line.strip() for line in seen] + outputs[0]
    acks = max(acknowledged(out) for out in outputs)
    result = {"job": job, "kill": [round(k, 3) for k in kill[1:]], "killed": any(alive), "acked": acks}
    started = time.perf_counter()
    result["problems"] = checker(data_dir, rows[:acks])
    result["check_seconds"] = round(time.perf_counter() - started, 3)
    return result


def missing_entries(engine: Engine, feed) -> list[str]:
    """The entries of a served feed that are not stored (by their link and text)."""
    missing = []
    for entry in feed.entries:
        text_hash = content_hash(entry.body.strip())
        at_url, with_text = engine.store.observe(canonical_url(feed.link(entry)), text_hash)
        if not (at_url and at_url[1] == text_hash) and with_text is None:
            missing.append(f"entry {entry.slug} of {feed.path} is missing")
    return missing


def poll_trial(data_dir: Path, rows: list[dict], embedder: str, model, kill_after: int, delay: float) -> dict:
    """A poll cycle over `rows` served as POLL_FEEDS feeds, killed once `kill_after` feeds were checked
    (`ack N ID`: feed ID's entries all committed); then the folder is checked, the acknowledged feeds'
    entries must be stored, a second cycle runs in this process, and every entry must be stored, none
    twice."""
    from index.live import Poller
    from tests.helpers.feed_server import Entry, Feed
    from tests.helpers.local_http import serve

    with serve() as server:
        feeds = [Feed(server, f"/feed{n}.xml", f"Outlet {n}") for n in range(POLL_FEEDS)]
        for number, row in enumerate(rows):
            feeds[number % POLL_FEEDS].entries.append(Entry(row["id"], row["title"], row["body"]))
        store = Store(data_dir / "news.db")
        try:
            for old in store.feeds.all():  # an earlier trial's feeds (their server is gone)
                store.feeds.delete(old["id"])
            ids = {
                store.feeds.add({"url": feed.url, "scope": "operator", "interval_s": 900, "next_due": 0,
                                 "added_at": "2026-12-02T00:00:00Z"}): feed
                for feed in feeds
            }  # fmt: skip
        finally:
            store.close()
        process = start("poll", data_dir, None, embedder)
        wait_ready(process)
        out = []
        while (line := process.stdout.readline()) and not line.startswith(f"ack {kill_after} "):
            out.append(line.strip())
        out.append(line.strip())
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            os.kill(process.pid, signal.SIGKILL)
        out += process.communicate()[0].splitlines()
        acked = [int(line.split()[2]) for line in out if line.startswith("ack ")]
        started = time.perf_counter()
        problems = check(data_dir, [], model)
        settings = Settings(data_dir=data_dir, _env_file=None, fetch_allow="127.0.0.1")
        with Engine(settings, embedder=model) as engine:
            for feed_id in acked:
                problems += [f"acknowledged {m}" for m in missing_entries(engine, ids[feed_id])]
            report = Poller(engine).run_once(force=True)
            if report.errors:
                problems.append(f"the second cycle failed: {report.errors}")
            for feed in feeds:
                problems += [f"{m} after the second cycle" for m in missing_entries(engine, feed)]
        problems += check(data_dir, [], model)  # nothing stored twice after polling again
    return {"job": "poll", "kill": [kill_after, round(delay, 3)], "killed": killed, "acked": len(acked),
            "problems": problems, "check_seconds": round(time.perf_counter() - started, 3)}  # fmt: skip


def variation(rows: list[dict], rng: random.Random, number: int) -> list[dict]:
    """A trial's articles: some of the corpus in a new order (some already stored by earlier trials
    in the folder, some new), a few as new versions of themselves (same URL, changed text)."""
    batch = rng.sample(rows, rng.randint(len(rows) // 2, len(rows)))
    for i in rng.sample(range(len(batch)), len(batch) // 10):
        batch[i] = {**batch[i], "body": batch[i]["body"] + f" This report was updated in trial {number}."}
    return batch


def run(trials: int, embedder: str, seed: int, articles: int, per_folder: int) -> list[dict]:
    """`trials` trials cycling through JOBS, `per_folder` of them one after another in each folder."""
    rng = random.Random(seed)
    rows = records()[:articles]
    model = embedder_for(embedder)
    results = []
    with tempfile.TemporaryDirectory(prefix="faults-") as root:
        corpus = Path(root) / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
        lengths = spans(corpus, embedder)
        print(json.dumps({"work_seconds": {job: round(t, 2) for job, t in lengths.items()}}), flush=True)
        data_dir = Path(root)
        for number in range(trials):
            if number % per_folder == 0:
                data_dir = Path(root) / f"data-{number}"
            job = JOBS[number % len(JOBS)]
            if job.startswith("reindex") and not (data_dir / "news.db").exists():
                job = "ingest"  # a reindex needs something stored first
            batch = variation(rows, rng, number)
            if job == "poll":
                result = poll_trial(data_dir, batch, embedder, model, rng.randint(1, POLL_FEEDS - 1),
                                    rng.uniform(0, 0.1))  # fmt: skip
                results.append(result)
                print(json.dumps(result), flush=True)
                continue
            if job.startswith("ingest"):  # at a random acknowledgement, then a random moment after it
                kill = ("ack", rng.randint(1, len(batch)), rng.uniform(0, 0.1))
            else:
                # a random moment of its work, which grows with what the folder holds
                kill = ("after", rng.uniform(0, 1.1 * lengths[job] * stored(data_dir) / len(rows)))
            corpus.write_text("".join(json.dumps(r) + "\n" for r in batch))
            result = trial(job, data_dir, corpus, batch, embedder, lambda d, a: check(d, a, model), kill)
            results.append(result)
            print(json.dumps(result), flush=True)
    return results


def main() -> None:
    tune_process()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("worker")
    worker.add_argument("job", choices=["ingest", "reindex", "reindex-full", "serve", "poll"])
    worker.add_argument("data_dir", type=Path)
    worker.add_argument("source", nargs="?")
    worker.add_argument("--embedder", choices=["hash", "real"], default="hash")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--real", action="store_true", help="the real model instead of the HashEmbedder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--articles", type=int, default=60, help="how many bundled articles to ingest")
    parser.add_argument("--per-folder", type=int, default=6, help="trials run one after another per folder")
    args = parser.parse_args()
    if args.command == "worker":
        work(args.job, args.data_dir, args.source, args.embedder)
        return
    began = time.perf_counter()
    results = run(args.trials, "real" if args.real else "hash", args.seed, args.articles, args.per_folder)
    failed = [r for r in results if r["problems"]]
    by_kind: dict[str, int] = {}
    for r in results:
        by_kind[r["job"]] = by_kind.get(r["job"], 0) + 1
    summary = {
        "trials": len(results),
        "by_job": by_kind,
        "killed": sum(r["killed"] for r in results),
        "acknowledged_articles_checked": sum(r["acked"] for r in results),
        "failed": len(failed),
        "check_seconds_max": max(r["check_seconds"] for r in results),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(summary))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
