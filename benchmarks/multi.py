"""Several processes on one PostgreSQL: two serving processes and one ingesting process (docs/deploy.md).

Each process is a node of its own (a data folder for its vector, keyword and full-text indexes) on one
database made for the run (`newsbot_bench_<random>`, dropped at the end). The servers answer questions
(`index.answers.ask.answer`, what /ask runs) as fast as they can, following the change log woken by
NOTIFY (`Engine.follow_changes`); the ingester adds the rest of the bundled news and, between them,
probe articles with a fact found nowhere else. Each server asks about the next probe every
`--probe-every` seconds until an answer cites it: the time from the probe's commit (when the ingester's
`ingest_items` returned) to that answer is the commit-to-answer time.

Then one node alone, nothing else running: search latency p50/p99 (`Engine.search`, embedding the
question included) on the same store, and with `--passages N` on a store filled to N synthetic
one-passage articles (vectors from the deterministic fake embedder, HashEmbedder: the index has the
real size, the question's embedding costs nothing, so the figure is the store's and the indexes' part).

    python benchmarks/multi.py                       # real model, 60 s of serving
    python benchmarks/multi.py --embedder hash --seconds 20
    python benchmarks/multi.py --passages 100000 --skip-multi

The workers are this file too: `python benchmarks/multi.py serve|ingest URL DATA_DIR OUT ...`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clean clone

from index.config import Settings  # noqa: E402
from index.embedding.passages import embed_text  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.models import ArticleDraft  # noqa: E402
from index.sources.records import record_to_draft  # noqa: E402
from index.storage.spans import encode_spans  # noqa: E402
from index.text import sentence_spans  # noqa: E402

NEWS = ROOT / "news" / "articles.jsonl"
QUERIES = ROOT / "tests" / "fixtures" / "retrieval" / "queries.jsonl"
SEEDED = 40  # bundled articles in the database before the servers start; the ingester adds the rest


def embedder_for(kind: str):
    if kind == "real":
        from index.embedding.embedder import load_embedder

        return load_embedder()
    from tests.helpers.embedders import HashEmbedder

    return HashEmbedder()


def node(url: str, data_dir: Path, embedder: str) -> Engine:
    settings = Settings(data_dir=data_dir, database_url=url, _env_file=None)
    return Engine(settings, embedder=embedder_for(embedder))


def records() -> list[dict]:
    return [json.loads(line) for line in NEWS.read_text().splitlines() if line.strip()]


def draft(record: dict) -> ArticleDraft:
    parsed = record_to_draft(record, record["id"])
    assert isinstance(parsed, ArticleDraft), parsed
    return parsed


def questions() -> list[str]:
    return [json.loads(line)["query"] for line in QUERIES.read_text().splitlines() if line.strip()]


def probe_word(k: int) -> str:
    return f"Quorvane{k}"


def probe_draft(k: int) -> ArticleDraft:
    word = probe_word(k)
    body = (
        f"The {word} footbridge over the river Lenn opened to walkers on Tuesday. The {word} footbridge "
        f"cost {k + 3} million dollars and took two years to build, the city engineer said. "
        f"Cyclists will be allowed on the {word} footbridge from next spring."
    )
    return ArticleDraft(
        body=body,
        origin=f"probe-{k}",
        title=f"{word} footbridge opens",
        source="Probe Times",
        url=f"https://probe.invalid/{k}",
        published="2026-12-03",
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


# -- workers ------------------------------------------------------------------------------------


def serve(url: str, data_dir: Path, out: Path, seconds: float, probes: int, probe_every: float, kind: str):
    from index.answers.ask import answer

    with node(url, data_dir, kind) as engine:
        engine.warm_up()
        engine.follow_changes(every=5.0)
        asked = questions()
        print("ready", flush=True)
        sys.stdin.readline()  # "go"
        latencies, found, n, k = [], {}, 0, 0
        started = time.time()
        next_probe, probed = started, False
        stop = out.with_suffix(".stop")  # written when the ingester is done
        while time.time() - started < seconds or not (k >= probes or stop.exists()):
            if k < probes and time.time() >= next_probe and not probed:
                next_probe, probed = time.time() + probe_every, True
                result = answer(engine, f"How much did the {probe_word(k)} footbridge cost?")
                if any(probe_word(k) in (c.title or "") for c in result.citations):
                    found[k] = time.time()
                    k += 1
                n += 1  # (a question answered too: counted, not timed with the others)
                continue
            probed = False  # a probe, then at least one other question
            t = time.perf_counter()
            answer(engine, asked[len(latencies) % len(asked)])
            latencies.append(time.perf_counter() - t)
            n += 1
        elapsed = time.time() - started
    out.write_text(json.dumps({"questions": n, "seconds": elapsed, "latencies": latencies, "found": found}))


def ingest(url: str, data_dir: Path, out: Path, probes: int, gap: float, kind: str):
    rest = records()[SEEDED:]
    with node(url, data_dir, kind) as engine:
        engine.warm_up()
        print("ready", flush=True)
        sys.stdin.readline()
        committed, articles, started = {}, 0, time.time()
        per_probe = max(1, len(rest) // max(probes, 1))
        for k in range(probes):
            for record in rest[k * per_probe : (k + 1) * per_probe]:
                engine.ingest_items([draft(record)])
                articles += 1
            time.sleep(gap)
            engine.ingest_items([probe_draft(k)])
            committed[k] = time.time()  # the article's transaction committed before ingest_items returned
        elapsed = time.time() - started
    out.write_text(json.dumps({"committed": committed, "articles": articles + probes, "seconds": elapsed}))


# -- the run ------------------------------------------------------------------------------------


def make_database(server: str) -> tuple[str, str]:
    import psycopg

    name = f"newsbot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start(role: str, url: str, data_dir: Path, out: Path, args, *extra: str) -> subprocess.Popen:
    command = [sys.executable, __file__, role, url, str(data_dir), str(out), "--embedder", args.embedder]
    return subprocess.Popen(
        [*command, *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def multi(args, url: str, work: Path) -> dict:
    with node(url, work / "seed", args.embedder) as seed:
        seed.ingest_items(draft(r) for r in records()[:SEEDED])
    servers = [
        start(
            "serve", url, work / f"server{i}", work / f"server{i}.json", args,
            "--seconds", str(args.seconds), "--probes", str(args.probes),
            "--probe-every", str(args.probe_every),
        )
        for i in range(2)
    ]  # fmt: skip
    ingester = start(
        "ingest", url, work / "ingester", work / "ingester.json", args, "--probes", str(args.probes)
    )
    everyone = [*servers, ingester]
    for process in everyone:
        assert process.stdout.readline().strip() == "ready"
    for process in everyone:
        process.stdin.write("go\n")
        process.stdin.flush()
    ingester.wait(timeout=args.seconds + 600)
    for i in range(2):
        (work / f"server{i}.stop").touch()
    for process in everyone:
        process.wait(timeout=args.seconds + 600)
        assert process.returncode == 0
    served = [json.loads((work / f"server{i}.json").read_text()) for i in range(2)]
    ingested = json.loads((work / "ingester.json").read_text())
    lags = [
        found - ingested["committed"][k]
        for s in served
        for k, found in s["found"].items()
        if k in ingested["committed"]
    ]
    latencies = [x for s in served for x in s["latencies"]]
    return {
        "questions_per_second": [round(s["questions"] / s["seconds"], 2) for s in served],
        "questions_per_second_total": round(sum(s["questions"] / s["seconds"] for s in served), 2),
        "answer_p50_ms_under_ingest": round(pct(latencies, 50) * 1000, 1),
        "answer_p99_ms_under_ingest": round(pct(latencies, 99) * 1000, 1),
        "articles_ingested": ingested["articles"],
        "ingest_seconds": round(ingested["seconds"], 1),
        "probes_answered": f"{len(lags)} of {2 * args.probes}",
        "commit_to_answer_ms_p50": round(statistics.median(lags) * 1000, 1) if lags else None,
        "commit_to_answer_ms_max": round(max(lags) * 1000, 1) if lags else None,
    }


def search_latency(engine: Engine, asked: list[str], rounds: int) -> dict:
    for q in asked:  # warm
        engine.search(q, k=10)
    times = []
    for _ in range(rounds):
        for q in asked:
            t = time.perf_counter()
            engine.search(q, k=10)
            times.append(time.perf_counter() - t)
    return {
        "passages": engine.store.passage_count(),
        "searches": len(times),
        "search_p50_ms": round(pct(times, 50) * 1000, 1),
        "search_p99_ms": round(pct(times, 99) * 1000, 1),
        "over_30_ms": sum(t > 0.030 for t in times),
    }


def fill(engine: Engine, passages: int, batch: int = 5000) -> None:
    """Synthetic one-passage articles (sentences of the bundled news, shuffled), vectors from the
    engine's (fake) embedder, written in bulk to the real tables, one transaction per batch: the
    change-log and claims triggers fire for each passage as in an ingest (the ingest path's own
    statements, one article at a time, are timed by the multi-process part)."""
    rng = np.random.default_rng(7)
    sentences = [s.strip() + "." for r in records() for s in r["body"].split(".") if len(s.split()) > 5]
    store, passager = engine.store, engine.passager
    done = store.counts()["chunks"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    while done < passages:
        rows = []
        for n in range(done, min(done + batch, passages)):
            body = f"Synthetic article {n}. " + " ".join(rng.choice(sentences, rng.integers(5, 9)))
            rows.append((f"synthetic-{n}", body, f"Synthetic story {n}: {' '.join(body.split()[3:11])}", n))
        texts = [embed_text(passager.heading(title), body) for _, body, title, _ in rows]
        keys = [passager.key(text) for text in texts]
        vectors = engine.embedder.embed(texts)
        many = store.db.conn.executemany
        with store.write():
            many(
                "INSERT INTO articles (id, title, title_derived, source, url, canonical_url, published, "
                "body, content_hash, origin, ingested_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, title, f"Outlet {n % 7}", f"https://example.invalid/{n}", f"https://example.invalid/{n}",
                     f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}", body, i, i, now)
                    for i, body, title, n in rows
                ],
            )  # fmt: skip
            store.put_vectors(dict(zip(keys, vectors, strict=True)))
            many(
                'INSERT INTO chunks (article_id, position, start, "end", text, embed_key, sentences) '
                "VALUES (?, 0, 0, ?, ?, ?, ?)",
                [
                    (i, len(body), body, key, encode_spans(sentence_spans(body)))
                    for (i, body, _, _), key in zip(rows, keys, strict=True)
                ],
            )
            many(
                "INSERT INTO article_claims (article_id, scope, via, claimed_at) "
                "VALUES (?, 'operator', 'manual', ?)",
                [(i, now) for i, *_ in rows],
            )
        done += len(rows)
        print(f"  filled {done:,} passages", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("role", nargs="?", default="run", choices=("run", "serve", "ingest"))
    parser.add_argument("url", nargs="?")
    parser.add_argument("data_dir", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--embedder", default="real", choices=("real", "hash"))
    parser.add_argument("--seconds", type=float, default=60.0, help="serving time")
    parser.add_argument("--probes", type=int, default=10)
    parser.add_argument("--probe-every", type=float, default=0.1, help="seconds between probe questions")
    parser.add_argument("--rounds", type=int, default=5, help="single-node search rounds over the questions")
    parser.add_argument("--passages", type=int, default=0, help="also time search at this store size")
    parser.add_argument("--skip-multi", action="store_true")
    parser.add_argument("--database", help="use (and keep) this database instead of a new one")
    args = parser.parse_args(argv)
    if args.role == "serve":
        serve(
            args.url,
            Path(args.data_dir),
            Path(args.out),
            args.seconds,
            args.probes,
            args.probe_every,
            args.embedder,
        )
        return
    if args.role == "ingest":
        ingest(args.url, Path(args.data_dir), Path(args.out), args.probes, 0.5, args.embedder)
        return
    url, name = (args.database, None) if args.database else make_database(args.server)
    results: dict = {"date": time.strftime("%Y-%m-%d"), "embedder": args.embedder}
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-multi-") as folder:
            work = Path(folder)
            if not args.skip_multi:
                results["multi"] = multi(args, url, work)
                print(json.dumps(results["multi"], indent=1), flush=True)
                with node(url, work / "single", args.embedder) as engine:
                    engine.reindex()  # a node as after `newsbot reindex`: its keyword index built
                    results["single_node"] = search_latency(engine, questions(), args.rounds)
                print(json.dumps(results["single_node"], indent=1), flush=True)
            if args.passages:
                with node(url, work / "scale", "hash") as engine:
                    fill(engine, args.passages)
                    engine.reindex()  # this node's vector and keyword indexes (`newsbot reindex`)
                with node(url, work / "scale", "hash") as engine:  # a fresh process: loads what it saved
                    results["scale"] = search_latency(engine, questions(), args.rounds)
                print(json.dumps(results["scale"], indent=1), flush=True)
    finally:
        if name is not None:
            drop_database(args.server, name)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
