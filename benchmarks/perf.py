"""Performance benchmark: embedding backends, ingest, reindex, search/ask latency by scale, memory, cold
start and event-loop stalls — printed as one Markdown table for docs/performance.md.

    python benchmarks/perf.py                      # default: ~6 minutes on 2 idle cores, 10k passages
    python benchmarks/perf.py --scales 10k,100k    # add larger scales (100k: ~3 minutes more)
    python benchmarks/perf.py --scales 1m --work-dir W   # 1M passages: ~30-45 minutes to build; run the
                                                         # same command again to measure serving only
    python benchmarks/perf.py --only embed         # one section: embed, ingest, cold, stall, scale

Ratios are measured in the same run: backends are timed in alternating rounds on the same passages, so
a busy machine slows both alike. Embedding and ingest use the bundled news (`news/articles.jsonl`).
Scale runs use SYNTHETIC passages — bodies mixed from sentences of the bundled news, vectors clustered
around real passage embeddings — written through `Store.add_article` (SQLite, FTS5, embedding cache;
chunking, dedupe and the model are measured by the ingest section), then indexed by `reindex`;
queries are embedded by the real model. Recall@10 compares the index kind chosen for that size with
exact search on the same vectors.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clean clone
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from index.config import Settings  # noqa: E402
from index.embedding import DEFAULT_BACKEND, cpu  # noqa: E402
from index.embedding.embedder import forget_cached, load_embedder  # noqa: E402
from index.embedding.export import default_cache_dir  # noqa: E402
from index.embedding.passages import embed_text  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.models import Article, ArticleDraft  # noqa: E402
from index.runtime import tune_process  # noqa: E402
from index.sources.records import record_to_draft  # noqa: E402
from index.storage.records import NewChunk  # noqa: E402
from index.text import sentence_spans  # noqa: E402

NEWS = ROOT / "news" / "articles.jsonl"
QUESTIONS = [
    "What did the central bank decide about interest rates?",
    "Who won the election?",
    "What happened with the storm?",
    "What are companies saying about artificial intelligence?",
    "Which team won the match?",
    "What did the president say about trade?",
    "How are energy prices changing?",
    "What is the latest on the war?",
]
# Questions about the bundled news itself, whose sentences the synthetic stores are made of: asked at
# every scale beside the generic ones above, of which only 3-4 find an answer there.
NEWS_QUESTIONS = [
    "What did the judge rule about Donald Trump's real estate empire?",
    "Why did Coinbase shares rally?",
    "What digestive problems are linked to Ozempic and Wegovy?",
    "What did Meta say about livestreaming during the Israel-Hamas war?",
    "How can jellyfish learn without brains?",
    "What can the new Alzheimer's drugs do for UK patients?",
    "What happened in the airline parts scandal?",
    "What should dog owners know about the respiratory illness?",
]
ROWS: list[tuple[str, str, str]] = []  # (measure, value, note)


def row(measure: str, value: str, note: str = "") -> None:
    ROWS.append((measure, value, note))
    print(f"  {measure}: {value}" + (f"  ({note})" if note else ""), flush=True)


def articles() -> list[dict]:
    return [json.loads(line) for line in NEWS.read_text().splitlines() if line.strip()]


def draft(record: dict) -> ArticleDraft:
    """A bundled record as the product's own JSON parser reads it."""
    parsed = record_to_draft(record, record["id"])
    assert isinstance(parsed, ArticleDraft), parsed
    return parsed


def passages(limit: int, words: int = 170) -> list[str]:
    """Title + ~230-token body slices, as the index embeds them."""
    out = []
    for record in articles():
        body = record["body"].split()
        for start in range(0, len(body), words):
            out.append(f"{record.get('title') or ''}\n{' '.join(body[start : start + words])}")
    return out[:limit]


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_reads() -> int:
    """Reads from disk so far: page faults on memory-mapped files not in memory (an index, library
    code) and file reads that missed the page cache (SQLite), in the kernel's own counts."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_majflt + usage.ru_inblock


def cpu_ticks() -> tuple[int, int]:
    """(all, stolen) CPU ticks of the machine so far: 'steal' is time the hypervisor ran other guests
    while this VM had work, which no code here can avoid; (0, 0) where /proc/stat is not there."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields), fields[7]


CACHE: dict[str, Path] = {}  # the exported models, shared by every data folder of the run


def settings_for(data_dir: Path, backend: str) -> Settings:
    return Settings(
        data_dir=data_dir, embed_backend=backend, embed_cache_dir=CACHE.get("dir"), _env_file=None
    )


# -- embedding ----------------------------------------------------------------------------------


def bench_embed(args, cache_dir: Path) -> None:
    print(f"\n## Embedding: {args.backend} against plain sentence-transformers fp32 (torch)", flush=True)
    texts = passages(args.passages)
    load_embedder(backend=args.backend, cache_dir=cache_dir)  # exports on first use, not timed
    started = time.perf_counter()
    fast = load_embedder(backend=args.backend, cache_dir=cache_dir)
    fast_load = time.perf_counter() - started
    started = time.perf_counter()
    ref = load_embedder(backend="torch")
    torch_load = time.perf_counter() - started
    runners = {"torch": ref, args.backend: fast}
    for embedder in runners.values():
        embedder.embed(texts[:4])  # warm up
    times: dict[str, list[float]] = {name: [] for name in runners}
    vectors = {}
    for _ in range(args.rounds):  # alternate, so machine noise hits both
        for name, embedder in runners.items():
            started = time.perf_counter()
            vectors[name] = embedder.embed(texts)
            times[name].append(time.perf_counter() - started)
    rate = {name: len(texts) / min(t) for name, t in times.items()}
    cosine = np.sum(vectors["torch"] * vectors[args.backend], axis=1)
    queries = {name: [] for name in runners}
    for _ in range(3):
        for question in QUESTIONS:
            for name, embedder in runners.items():
                started = time.perf_counter()
                embedder.embed([question])
                queries[name].append(time.perf_counter() - started)
    tokens = np.mean(ref.count_tokens(texts))
    same_tokens = fast.count_tokens(texts) == ref.count_tokens(texts)
    note = f"{len(texts)} news passages of ~{tokens:.0f} tokens, best of {args.rounds} alternating rounds"
    row("CPU features", cpu.describe(), "what the path was chosen for")
    chosen = getattr(fast, "backend", args.backend)
    recorded = getattr(fast, "cosine_to_fp32", 1.0)
    row(f"path ({args.backend})", chosen, f"cosine to fp32 {recorded:.4f} mean, checked at preparation")
    row("torch fp32 passages/s", f"{rate['torch']:.1f}", note)
    row(f"{fast.name} passages/s", f"{rate[args.backend]:.1f}", f"{args.backend} backend")
    row("embedding speed-up vs torch fp32", f"{rate[args.backend] / rate['torch']:.2f}×", "same run")
    row("cosine to fp32 (min / mean)", f"{cosine.min():.4f} / {cosine.mean():.4f}", "same passages")
    row("identical token counts", str(same_tokens))
    q_t, q_f = statistics.median(queries["torch"]), statistics.median(queries[args.backend])
    row("query embedding p50 torch / default", f"{ms(q_t)} / {ms(q_f)}", f"{q_t / q_f:.1f}× faster")
    row("model load torch / default", f"{torch_load:.1f} s / {fast_load:.1f} s", "in-process, warm cache")


# -- ingest and reindex on the bundled news -------------------------------------------------------


def bench_ingest(args, work: Path) -> Path:
    print("\n## Ingest and reindex on the bundled news", flush=True)
    data = work / "news-data"
    records = articles()
    # Ingest from empty and the raw model on the same texts, in alternating rounds (best of each), so
    # a noisy machine slows both alike; the overhead is a small difference of two ~20 s figures.
    totals, raws, plains = [], [], []
    plain = load_embedder(backend="torch")  # plain sentence-transformers fp32 on the same texts, alternated
    for _ in range(args.rounds):
        shutil.rmtree(data, ignore_errors=True)  # timed from empty, also on a reused --work-dir
        engine = Engine(settings_for(data, args.backend))
        embedder = engine.embedder
        counting = CountingEmbedder(embedder)
        engine._embedder = counting  # time spent in the model, to subtract
        engine.vectors  # noqa: B018 - load (empty) before timing
        started = time.perf_counter()
        engine.ingest_items(draft(r) for r in records)
        totals.append(time.perf_counter() - started)
        chunks = engine.vectors.count
        texts = counting.texts
        started = time.perf_counter()
        for i in range(0, len(texts), 64):
            embedder.embed(texts[i : i + 64])
        raws.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain.embed(texts)
        plains.append(time.perf_counter() - started)
        engine.close()
    total, raw, fp32 = min(totals), min(raws), min(plains)
    engine = Engine(settings_for(data, args.backend))
    row("ingest articles/s", f"{len(records) / total:.2f}", f"{len(records)} articles, {chunks} chunks")
    row("ingest chunks/s", f"{chunks / total:.2f}", "end to end: chunk, dedupe, embed, SQLite, FAISS")
    row(
        "ingest end to end vs plain sentence-transformers fp32",
        f"{fp32 / total:.2f}×",
        f"the same {len(texts)} texts embedded by torch fp32 alone: {len(texts) / fp32:.1f}/s (same run)",
    )
    row(
        "ingest overhead over the raw model",
        f"{(total - raw) / raw * 100:.1f} %",
        f"ingest {total:.1f} s vs the same texts embedded alone {raw:.1f} s (best of {args.rounds} rounds)",
    )
    started = time.perf_counter()
    report = engine.reindex(full=True)
    full = time.perf_counter() - started
    started = time.perf_counter()
    report2 = engine.reindex()
    unchanged = time.perf_counter() - started
    row(
        "reindex unchanged corpus / full build",
        f"{ms(unchanged)} / {full:.1f} s",
        f"{unchanged / full * 100:.2f} % (embedded {report2.embedded} vs {report.embedded})",
    )
    engine.close()
    return data


def _stored_rows(index, positions: np.ndarray) -> np.ndarray:
    """The stored vectors at these (sorted) insertion positions, read block by block."""
    rows, at = [], 0
    for ids, vectors in index.blocks():
        rows.append(vectors[positions[(positions >= at) & (positions < at + len(ids))] - at])
        at += len(ids)
    return np.concatenate(rows)


def _exact_top10(index, queries: np.ndarray) -> list[set[int]]:
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best = np.zeros((len(queries), 0), dtype=np.float32)
    for ids, vectors in index.blocks():
        scores = np.concatenate([best, queries @ vectors.T], axis=1)
        labels = np.concatenate([best_ids, np.broadcast_to(ids, (len(queries), len(ids)))], axis=1)
        keep = np.argpartition(-scores, 10, axis=1)[:, :10]
        best, best_ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(labels, keep, 1)
    return [set(row.tolist()) for row in best_ids]


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.texts = inner, []
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


# -- cold start and event loop ------------------------------------------------------------------


def bench_cold(args, data: Path) -> None:
    print("\n## Cold start (fresh process, warm OS cache)", flush=True)
    answer_script = (
        f"import time; t=time.perf_counter(); import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from index.config import Settings; from index.engine import Engine\n"
        "from index.runtime import tune_process; tune_process()\n"
        f"e = Engine(Settings(data_dir={str(data)!r}, embed_backend={args.backend!r}, "
        f"embed_cache_dir={str(CACHE['dir'])!r}, _env_file=None))\n"
        f"from index.answers.ask import answer; answer(e, {QUESTIONS[0]!r})\n"
        "print(time.perf_counter()-t)\n"
    )
    seconds = _timed_process(answer_script)
    row(f"cold start to first answer ({args.backend})", f"{seconds:.1f} s", "bundled news, index on disk")
    load_script = (
        "import time; t=time.perf_counter(); import sys; sys.path.insert(0, %r)\n"
        "from index.embedding.embedder import load_embedder\n"
        "load_embedder(backend=%r, cache_dir=__import__('pathlib').Path(%r)).embed(['a question'])\n"
        "print(time.perf_counter()-t)\n"
    )
    loads = {
        backend: _timed_process(load_script % (str(ROOT), backend, str(CACHE["dir"])))
        for backend in dict.fromkeys([args.backend, "torch"])
    }
    row(
        f"model load + first query, {args.backend} / torch",
        " / ".join(f"{v:.1f} s" for v in loads.values()),
        "fresh process each",
    )


def _timed_process(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode or not out.stdout.strip():
        print(out.stderr[-2000:], file=sys.stderr)
        return float("nan")
    return float(out.stdout.split()[-1])


_STALL_SCRIPT = """
import asyncio, json, sys, time
sys.path.insert(0, {root!r})
from index.config import Settings
from index.engine import Engine
from index.runtime import tune_process

tune_process()
settings = Settings(data_dir={data!r}, embed_backend={backend!r}, embed_cache_dir={cache!r}, _env_file=None)
engine = Engine(settings)
engine.vectors


async def main():
    worst, ticks, running = 0.0, 0, True

    async def ticker():
        nonlocal worst, ticks
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - before - 0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep({idle})  # the machine's own noise, with nothing else running
    idle, worst = worst, 0.0
    await asyncio.to_thread(engine.reindex, full=True)
    running = False
    await task
    return idle, worst, ticks


print(json.dumps(asyncio.run(main())))
"""


def bench_stall(args, data: Path) -> None:
    """The event loop of a fresh process like the bot's (only the engine loaded) while a full reindex
    runs in a worker thread, as `/reindex` does. (In this process, after the torch comparison, the
    same measure gave 100-190 ms.)"""
    print("\n## Event loop while a full reindex runs in a thread", flush=True)
    code = _STALL_SCRIPT.format(
        root=str(ROOT), data=str(data), backend=args.backend, cache=str(CACHE["dir"]), idle=args.idle
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return
    idle, worst, ticks = json.loads(out.stdout.strip().splitlines()[-1])
    row("event loop longest stall during full reindex", ms(worst), f"{ticks} ticks of 5 ms, fresh process")
    row("event loop longest stall, idle baseline", ms(idle), f"{args.idle:.0f} s with no work, same loop")


# -- scale: synthetic corpora -------------------------------------------------------------------


class SyntheticEmbedder:
    """Real token counts; vectors clustered around real passage embeddings (deterministic per text)."""

    def __init__(self, real, centres: np.ndarray):
        self.real, self.centres = real, centres
        self.name, self.dimension, self.max_tokens = real.name, real.dimension, real.max_tokens

    def embed(self, texts):
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode()))
            a, b = self.centres[rng.integers(0, len(self.centres), 2)]
            v = a + 0.35 * b + 0.045 * rng.standard_normal(self.dimension)
            out[i] = v / np.linalg.norm(v)
        return out

    def count_tokens(self, texts):
        return self.real.count_tokens(texts)


def synthetic_drafts(seed: int = 7):
    """Endless synthetic articles of about one passage each: sentences of the bundled news, shuffled."""
    rng = random.Random(seed)
    sentences = [s.strip() + "." for r in articles() for s in r["body"].split(".") if len(s.split()) > 5]
    sources = ["Wire", "Daily", "Herald", "Times", "Post", "Ledger", "Gazette"]
    n = 0
    while True:
        body = " ".join(rng.choice(sentences) for _ in range(rng.randint(5, 8)))
        n += 1
        yield ArticleDraft(
            body=f"Synthetic article {n}. {body}",
            origin=f"synthetic-{n}",
            title=f"Synthetic story {n}: {' '.join(body.split()[:8])}",
            source=sources[n % len(sources)],
            url=f"https://example.invalid/{n}",
            published=f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
        )


def sentence_pool(embedder) -> dict[str, np.ndarray]:
    """Sentence of the synthetic articles -> its real pooled vector, from a passage of its own article
    as ingest embeds it (empty for an embedder that pools none). With them, answers at scale rank their
    candidates by pooled vectors as they do on real news; random ones made that choice arbitrary."""
    if not getattr(embedder, "pools_sentences", False):
        return {}
    texts, spans = [], []
    for record in articles():
        body, title = record["body"], record.get("title") or ""
        located, offset = [], 0
        for piece in body.split("."):  # the sentences `synthetic_drafts` draws from
            sentence = piece.strip()
            start = offset + piece.find(sentence)
            offset += len(piece) + 1
            if len(sentence.split()) > 5 and body[start : start + len(sentence) + 1] == sentence + ".":
                located.append((start, start + len(sentence) + 1))
        for first in range(0, len(located), 6):  # passages of 6 sentences, about 200 tokens
            group = located[first : first + 6]
            shift = len(title) + 1 - group[0][0]
            texts.append(f"{title}\n{body[group[0][0] : group[-1][1]]}")
            spans.append([(a + shift, b + shift) for a, b in group])
    _, pooled = embedder.embed_passages(texts, spans)
    return {
        text[a:b]: vector
        for text, found, vectors in zip(texts, spans, pooled, strict=True)
        for (a, b), vector in zip(found, vectors, strict=True)
        if vector.any()
    }


def synthetic_sentence_vectors(
    body: str, vector: np.ndarray, pool: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The pooled vectors stored for a synthetic passage's sentences (as the index splits them): the
    mean of those in `pool` of the drawn sentences it overlaps, or, for a sentence overlapping none
    (its opening "Synthetic article N."), one near the passage's vector."""
    drawn, offset = [], 0
    for piece in body.split("."):  # the body is drawn sentences joined by spaces: split back
        sentence = piece.strip()
        start = offset + piece.find(sentence)
        offset += len(piece) + 1
        if (found := pool.get(sentence + ".")) is not None:
            drawn.append((start, start + len(sentence) + 1, found))
    spans = sentence_spans(body)
    near = vector + 0.015 * rng.standard_normal((len(spans), len(vector))).astype(np.float32)
    for i, (start, end) in enumerate(spans):
        inside = [found for a, b, found in drawn if a < end and b > start]
        if inside:
            near[i] = np.mean(inside, axis=0)
    return spans, near / np.linalg.norm(near, axis=1, keepdims=True)


SENTENCES_MARK = "synthetic-sentences"  # in a scale store: which pooled vectors it holds
SENTENCES_KIND = "pooled from their own articles"


def refresh_sentence_vectors(engine: Engine, pool: dict[str, np.ndarray], seed: int = 7) -> bool:
    """Give a store filled by an earlier version of this benchmark (random pooled vectors) those of
    `sentence_pool`; False if it has them already."""
    mark = engine.settings.data_dir / SENTENCES_MARK
    if not pool or (mark.exists() and mark.read_text() == SENTENCES_KIND):
        return False
    rng = np.random.default_rng(seed)
    store = engine.store
    total = store.counts()["chunks"]
    rows = store.db.execute(
        "SELECT c.embed_key, c.text, v.vector FROM chunks c JOIN embeddings v ON v.key = c.embed_key"
    )
    bar = tqdm(total=total, desc="pooled sentence vectors", unit="passage", file=sys.stderr)
    while batch := rows.fetchmany(5000):
        store.put_sentence_vectors(
            {
                key: synthetic_sentence_vectors(text, np.frombuffer(blob, dtype=np.float32), pool, rng)
                for key, text, blob in batch
            }
        )
        bar.update(len(batch))
    bar.close()
    mark.write_text(SENTENCES_KIND)
    return True


def bulk_synthetic(
    engine: Engine, scale: int, centres: np.ndarray, pool: dict[str, np.ndarray] | None = None, seed: int = 7
) -> None:
    """Fill a store with `scale` synthetic one-passage articles through `Store.add_article`: the real
    SQLite, FTS5 and embedding-cache writes, without chunking, near-duplicate checks or the model
    (their cost is measured by the ingest section). Vectors are clustered around real embeddings;
    sentences get the pooled vectors of `sentence_pool` (near the passage's vector where it has none)."""
    store, passager = engine.store, engine.passager
    pool = pool or {}
    rng = np.random.default_rng(seed)
    drafts = synthetic_drafts(seed)
    done = store.counts()["chunks"]
    bar = tqdm(total=scale, initial=done, desc="synthetic passages", unit="passage", file=sys.stderr)
    while done < scale:
        batch = [next(drafts) for _ in range(min(5000, scale - done))]
        a, b = centres[rng.integers(0, len(centres), (2, len(batch)))]
        vectors = a + 0.35 * b + 0.045 * rng.standard_normal(a.shape)
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        sentences = {}
        with store.lock, store.db.atomic():  # one transaction per batch
            for draft, vector in zip(batch, vectors, strict=True):
                key = passager.key(embed_text(passager.heading(draft.title), draft.body))
                # pooled sentence vectors, as the default backend stores them
                sentences[key] = synthetic_sentence_vectors(draft.body, vector, pool, rng)
                article = Article(
                    id=draft.origin,
                    title=draft.title,
                    title_derived=False,
                    source=draft.source,
                    url=draft.url,
                    published=draft.published,
                    author=None,
                    body=draft.body,
                    ingested_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
                store.add_article(
                    article,
                    canonical_url=draft.url,
                    content_hash=draft.origin,
                    origin=draft.origin,
                    chunks=[NewChunk(0, 0, len(draft.body), draft.body, key)],
                    vectors={key: vector},
                    minhash=None,
                )
            store.put_sentence_vectors(sentences)
        done += len(batch)
        bar.update(len(batch))
    bar.close()


def bench_scale(args, work: Path, scale: int, real, centres: np.ndarray, pool: dict[str, np.ndarray]) -> None:
    print(f"\n## {scale:,} passages (synthetic text and vectors)", flush=True)
    data = work / f"scale-{scale}"
    engine = Engine(settings_for(data, args.backend), embedder=SyntheticEmbedder(real, centres))
    index = engine.vectors
    if index.count >= scale and engine.store.impacts is not None:
        # built by an earlier run with the same --work-dir: this process only serves (clean peak memory)
        row(f"{scale:,}: passages / index kind", f"{index.count:,} / {index.kind}", "built by an earlier run")
    else:
        started = time.perf_counter()
        empty = engine.store.counts()["chunks"] == 0  # else resumed: earlier rows are rewritten below
        bulk_synthetic(engine, scale, centres, pool)
        if pool and empty:
            (data / SENTENCES_MARK).write_text(SENTENCES_KIND)
        fill = time.perf_counter() - started
        started = time.perf_counter()
        engine.reindex()  # chooses the vector index kind for this size, builds the BM25 impact index
        build = time.perf_counter() - started
        index = engine.vectors
        row(
            f"{scale:,}: passages / index kind",
            f"{index.count:,} / {index.kind}",
            f"synthetic rows written in {fill:.0f} s; reindex (vector + BM25 impact index) {build:.0f} s",
        )
    started = time.perf_counter()
    if refresh_sentence_vectors(engine, pool):
        row(
            f"{scale:,}: pooled sentence vectors",
            "rewritten",
            f"filled by an earlier version; {time.perf_counter() - started:.0f} s",
        )
    engine.close()
    del engine, index  # the serving engine below loads its own copy of the index
    gc.collect()
    engine = Engine(settings_for(data, args.backend), embedder=real)  # queries embedded by the real model
    engine.warm_up()  # as the bot does when it starts
    index = engine.vectors
    # recall@10 of this index kind against exact search, on queries near stored passages
    rng = np.random.default_rng(1)
    near = _stored_rows(index, np.sort(rng.integers(0, index.index.ntotal, 200)))
    queries = near + 0.035 * rng.standard_normal(near.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = _exact_top10(index, queries)  # block by block: no second copy of a million vectors
    recall = []
    vector_times = []
    for q, exact_ids in zip(queries, exact, strict=True):
        started = time.perf_counter()
        got = {i for i, _ in index.search(q, 10)}
        vector_times.append(time.perf_counter() - started)
        recall.append(len(got & (exact_ids if index.deleted == 0 else got)) / 10)
    row(f"{scale:,}: recall@10 {index.kind} vs exact", f"{np.mean(recall):.3f}", "200 synthetic queries")
    # Real text lies farther from the passages than a perturbed passage: the harder, truer test.
    news = articles()
    texts = [*QUESTIONS, *NEWS_QUESTIONS, *(a["title"] for a in news)]
    texts += [" ".join(a["body"].split()[:25]) for a in news]
    real = engine.embedder.embed(texts)
    found = [{i for i, _ in index.search(q, 10)} for q in real]
    real_recall = np.mean(
        [len(got & best) / 10 for got, best in zip(found, _exact_top10(index, real), strict=True)]
    )
    row(
        f"{scale:,}: recall@10 {index.kind} vs exact, real text",
        f"{real_recall:.3f}",
        f"{len(texts)} questions, titles and leads of the bundled news, embedded by the model",
    )
    row(f"{scale:,}: vector search p50 / p99", f"{ms(pct(vector_times, 50))} / {ms(pct(vector_times, 99))}")
    search_times: list[float] = []
    search_stolen: list[bool] = []  # whether the hypervisor took CPU time during each search
    search_faulted: list[bool] = []  # whether it read a page from disk (memory-mapped index, SQLite)
    ask_times: dict[bool, list[float]] = {False: [], True: []}  # new question, by whether it abstained
    repeat_times: list[float] = []
    from index.answers.ask import answer

    # The "this week" questions find nothing in the synthetic dates: they show a date filter's cost in
    # search and abstain in ask, so ask reports answered and abstained questions apart.
    asked = [*QUESTIONS, *NEWS_QUESTIONS]
    questions = [*asked, *(f"{q.rstrip('?')} this week?" for q in asked)]
    for question in questions[:2]:
        engine.search(question)  # warm up
    for _ in range(args.repeat):
        for question in questions:
            # A new question each time: its vector and its candidate sentences' not computed yet
            # (questions and sentences are cached, which a repeated question would hit).
            forget_cached()
            stolen, reads = cpu_ticks()[1], disk_reads()
            started = time.perf_counter()
            engine.search(question, k=10)
            search_times.append(time.perf_counter() - started)
            search_stolen.append(cpu_ticks()[1] > stolen)
            search_faulted.append(disk_reads() > reads)
            forget_cached()
            started = time.perf_counter()
            result = answer(engine, question)
            ask_times[result.abstained].append(time.perf_counter() - started)
            started = time.perf_counter()
            answer(engine, question)
            if not result.abstained:
                repeat_times.append(time.perf_counter() - started)
    row(
        f"{scale:,}: search p50 / p99 end to end",
        f"{ms(pct(search_times, 50))} / {ms(pct(search_times, 99))}",
        "embed query + vector + BM25 + fuse + sentence rescoring + SQLite fetch",
    )
    slow = [i for i, took in enumerate(search_times) if took > 0.030]
    if slow:
        row(
            f"{scale:,}: searches over 30 ms",
            f"{len(slow)} of {len(search_times)}",
            f"{sum(search_stolen[i] for i in slow)} while the hypervisor took CPU time from this VM (steal), "
            f"{sum(search_faulted[i] for i in slow)} reading from disk (memory-mapped pages or SQLite)",
        )
    for abstained, times in ask_times.items():
        note = "some end right after search (nothing in range)" if abstained else "candidates embedded"
        if times:
            row(
                f"{scale:,}: ask p50 / p99, new question, {'abstained' if abstained else 'answered'}",
                f"{ms(pct(times, 50))} / {ms(pct(times, 99))}",
                f"{len(times)} asks; {note}",
            )
    if repeat_times:
        row(
            f"{scale:,}: ask p50 / p99, answered question asked again",
            f"{ms(pct(repeat_times, 50))} / {ms(pct(repeat_times, 99))}",
            "sentence vectors from the cache",
        )
    row(f"{scale:,}: peak memory (process so far)", f"{peak_mb():.0f} MB")
    engine.close()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        flags = Path("/proc/cpuinfo").read_text()
        isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
        isa += " VNNI" if "avx512_vnni" in flags or "avx_vnni" in flags else ""
        isa += " BF16" if "avx512_bf16" in flags else ""
        isa += " AMX" if "amx_int8" in flags else ""
    except OSError:
        isa = ""
    return f"{cpu}, {os.cpu_count()} cores, {isa}, Python {platform.python_version()}"


def parse_scales(text: str) -> list[int]:
    out = []
    for part in filter(None, text.lower().split(",")):
        mult = 1_000_000 if part.endswith("m") else 1000 if part.endswith("k") else 1
        out.append(int(float(part.rstrip("mk")) * mult))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    tune_process()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default=DEFAULT_BACKEND, help="backend compared with torch fp32")
    parser.add_argument("--passages", type=int, default=48, help="news passages timed per backend")
    parser.add_argument("--rounds", type=int, default=2, help="alternating timing rounds")
    parser.add_argument("--scales", default="10k", help="comma list of scale runs: 10k,100k,1m ('' for none)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle loop baseline")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions at each scale")
    parser.add_argument("--only", default="", help="comma list of sections: embed,ingest,cold,stall,scale")
    parser.add_argument("--work-dir", type=Path, help="keep data here (default: a temporary folder)")
    args = parser.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    want: Callable[[str], bool] = lambda name: not only or name in only  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="newsbot-perf-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cache = default_cache_dir()  # the user's: prepared once per CPU, as the product does
        CACHE["dir"] = cache
        started, ticks = time.perf_counter(), cpu_ticks()
        print(f"newsbot performance, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
        if want("embed"):
            bench_embed(args, cache)
        data = None
        if want("ingest") or want("cold") or want("stall"):
            data = bench_ingest(args, work)
        if data and want("cold"):
            bench_cold(args, data)
        if data and want("stall"):
            bench_stall(args, data)
        if want("scale") and args.scales:
            real = load_embedder(backend=args.backend, cache_dir=cache)
            centres = real.embed(passages(300))
            pool = sentence_pool(real)
            for scale in parse_scales(args.scales):
                bench_scale(args, work, scale, real, centres, pool)
        row("peak memory (whole run)", f"{peak_mb():.0f} MB")
        row(
            "load average at the end (1/5/15 min)",
            " / ".join(f"{x:.1f}" for x in os.getloadavg()),
            f"{os.cpu_count()} cores: above that, other work shared the machine",
        )
        (total, stolen), (total0, stolen0) = cpu_ticks(), ticks
        if total > total0:
            row(
                "CPU time stolen by the hypervisor during the run",
                f"{100 * (stolen - stolen0) / (total - total0):.1f} %",
                "/proc/stat steal: other guests ran while this VM had work",
            )
        print(
            f"\nResults ({datetime.now(UTC):%Y-%m-%d}, {machine()}; {time.perf_counter() - started:.0f} s)\n"
        )
        print("| measure | value | note |\n| --- | --- | --- |")
        for measure, value, note in ROWS:
            print(f"| {measure} | {value} | {note} |")


if __name__ == "__main__":
    main()
