"""Retrieval benchmark: ingest a news corpus with the real pipeline, batch-search its questions, score them.

    python benchmarks/retrieval.py \\
        --corpus ../shared/eval/multihop-dev/corpus.jsonl --queries ../shared/eval/multihop-dev/queries.jsonl

The corpus is JSON Lines of articles (`title`, `source`, `url`, `published`, `body`, ...), ingested with
`Engine.ingest` exactly as `newsbot ingest` does. The questions are JSON Lines of `{"id", "query",
"question_type", "evidence": [{"fact", ...}]}`; those without evidence (null queries) are searched but not
scored, as in the benchmark. Metrics (Hits@4, Hits@10, MRR@10, MAP@10) are defined in
index/retrieval/evaluation.py.

Without --data-dir the corpus goes into a fresh temporary folder that is deleted afterwards. With
--data-dir the folder is kept and reused: articles already stored are recognised and not embedded again,
and stored embeddings are reused for identical passages (`newsbot reindex` after a chunking change).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clean clone

from index.config import Settings
from index.engine import Engine
from index.retrieval.evaluation import METRICS, percentile, score_query, summarise
from index.runtime import tune_process

log = logging.getLogger("benchmarks.retrieval")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="JSON Lines of articles.")
    parser.add_argument("--queries", type=Path, required=True, help="JSON Lines of questions with evidence.")
    parser.add_argument(
        "--data-dir", type=Path, help="Data folder to create or reuse (default: a temporary one)."
    )
    parser.add_argument("-k", type=int, default=10, help="Passages retrieved per question (default 10).")
    parser.add_argument("--json", type=Path, help="Also write the summary as JSON to this file.")
    parser.add_argument(
        "--details", type=Path, help="Write one JSON line per question (id, type, first rank, metrics)."
    )
    return parser.parse_args(argv)


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ingest(engine: Engine, corpus: Path) -> dict:
    started = time.perf_counter()
    report = engine.ingest([str(corpus)], fetch_linked=False)
    seconds = time.perf_counter() - started
    for skipped in report.skipped:
        log.warning("skipped %s: %s", skipped.source, skipped.reason)
    return {
        "seconds": round(seconds, 1),
        "added": report.added,
        "updated": report.updated,
        "duplicates": report.duplicates,
        "skipped": len(report.skipped),
        **engine.store.counts(),
        "embedded": engine.passager.embedded,
    }


def run_queries(engine: Engine, queries: list[dict], k: int) -> tuple[list[dict], list[float], list[float]]:
    """Search every question (the same call `newsbot search --queries` makes).

    Returns the results, wall-clock ms per query and CPU ms per query (this process, all threads: what
    the search costs when the machine is not shared with other jobs)."""
    if queries:
        engine.search(queries[0]["query"], k=k)  # warm-up: loads the model and the index
    results, wall, cpu = [], [], []
    for item in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        hits = engine.search(item["query"], k=k)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        results.append({"id": item["id"], "hits": hits})
    return results, wall, cpu


def evaluate(queries: list[dict], results: list[dict]) -> tuple[dict, list[dict]]:
    scored, details = [], []
    for item, result in zip(queries, results, strict=True):
        facts = [e["fact"] for e in item.get("evidence") or []]
        if not facts:
            continue  # null queries: nothing to find
        score = score_query([h.excerpt for h in result["hits"]], facts)
        kind = item.get("question_type") or "unknown"
        scored.append((kind, score))
        details.append({"id": item["id"], "type": kind, "first_rank": score.first_rank, **score.as_dict()})
    return summarise(scored), details


def print_table(summary: dict) -> None:
    print(f"{'':24} {'n':>5} " + " ".join(f"{m:>8}" for m in METRICS))
    for name, row in summary.items():
        print(f"{name:24} {row['n']:>5} " + " ".join(f"{row[m]:8.4f}" for m in METRICS))


def main(argv: list[str] | None = None) -> int:
    tune_process()
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="newsbot-bench-")) if temporary else args.data_dir
    # A benchmark corpus is one big file: let the reader accept it whole.
    limit = max(Settings().fetch_max_bytes, args.corpus.stat().st_size + 1)
    settings = Settings(data_dir=data_dir, fetch_max_bytes=limit)
    queries = load_jsonl(args.queries)
    try:
        with Engine(settings) as engine:
            print(f"ingesting {args.corpus} into {data_dir} ...", file=sys.stderr)
            ingested = ingest(engine, args.corpus)
            print(f"searching {len(queries)} questions ...", file=sys.stderr)
            results, times, cpu = run_queries(engine, queries, args.k)
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    summary, details = evaluate(queries, results)
    timing = {
        "queries": len(times),
        "ms_p50": round(percentile(times, 50), 1),
        "ms_p99": round(percentile(times, 99), 1),
        "ms_mean": round(sum(times) / max(len(times), 1), 1),
        "cpu_ms_p50": round(percentile(cpu, 50), 1),
        "cpu_ms_p99": round(percentile(cpu, 99), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print_table(summary)
    print(
        f"ingest: {ingested['seconds']} s ({ingested['articles']} articles, {ingested['chunks']} passages, "
        f"{ingested['embedded']} embedded, {ingested['duplicates']} duplicates)"
    )
    print(
        f"search: {timing['ms_p50']} ms/query p50, {timing['ms_p99']} ms p99 wall clock; CPU "
        f"{timing['cpu_ms_p50']} ms p50, {timing['cpu_ms_p99']} ms p99 ({timing['queries']} queries, "
        f"load average {timing['load_average']})"
    )
    if args.json:
        record = {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
            "corpus": str(args.corpus),
            "queries": str(args.queries),
            "model": settings.model,
            "k": args.k,
            "metrics": summary,
            "ingest": ingested,
            "search": timing,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    if args.details:
        args.details.write_text("".join(json.dumps(d) + "\n" for d in details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
