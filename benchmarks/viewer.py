"""News per server at scale: what a viewer costs a search (docs/performance.md, "News per server").

    python benchmarks/viewer.py                          # 100k passages, 200 servers with 50 stories each
    python benchmarks/viewer.py --passages 300000 --guilds 1000 --per-guild 20

A store of synthetic one-passage articles (benchmarks/perf.py's, written through `Store.add_article`),
all the operator's, then `--guilds` servers each given `--per-guild` stories of their own (their claims
replace the operator's). After `reindex` (vector and BM25 impact indexes), the same questions are
searched with viewer None (everything: the CLI), "operator" (DMs) and one server's; and the first search
after a commit (the viewer's hidden passages read again from SQLite) is timed apart. The embedder is the
deterministic HashEmbedder at 384 dimensions (the real model's size): this measures filtering, not the
model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.perf import QUESTIONS, bulk_synthetic, machine  # noqa: E402
from index.config import Settings  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.scopes import OPERATOR, guild_scope  # noqa: E402
from tests.helpers.embedders import HashEmbedder  # noqa: E402


def give_to_guilds(engine: Engine, guilds: int, per_guild: int, seed: int = 3) -> None:
    """All articles the operator's; then `per_guild` random ones each server's own instead."""
    store = engine.store
    with store.write():
        store.db.execute(
            "INSERT OR IGNORE INTO article_claims (article_id, scope, via, claimed_at) "
            "SELECT id, 'operator', 'manual', '' FROM articles"
        )
        ids = [r[0] for r in store.db.execute("SELECT id FROM articles ORDER BY id")]
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(ids), size=min(guilds * per_guild, len(ids)), replace=False)
        for n, at in enumerate(picked.tolist()):
            store.db.execute("DELETE FROM article_claims WHERE article_id = ?", [ids[at]])
            store.db.execute(
                "INSERT INTO article_claims VALUES (?, ?, 'manual', '')",
                [ids[at], guild_scope(1 + n // per_guild)],
            )


def timed(engine: Engine, viewer: str | None, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        for question in QUESTIONS:
            started = time.perf_counter()
            engine.search(question, k=10, viewer=viewer)
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument("--per-guild", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="newsbot-viewer-"))
    settings = Settings(data_dir=work / "data", _env_file=None)
    embedder = HashEmbedder(dimension=384, max_tokens=400)
    with Engine(settings, embedder=embedder) as engine:
        if engine.store.counts()["chunks"] < args.passages:
            centres = embedder.embed([f"topic {i}" for i in range(256)])
            bulk_synthetic(engine, args.passages, centres)
            give_to_guilds(engine, args.guilds, args.per_guild)
            engine.reindex()
        engine.search("warm up", viewer=None)
        guild = guild_scope(1)
        print(f"# {machine()}")
        passages = engine.store.counts()["chunks"]
        print(f"{passages:,} passages; {args.guilds} servers x {args.per_guild} own stories")
        print("| viewer | hidden passages | median | p90 |")
        print("| --- | --- | --- | --- |")
        for viewer in (None, OPERATOR, guild):
            engine.search("warm up", viewer=viewer)
            times = timed(engine, viewer, args.repeat)
            hidden = len(engine.store.hidden_chunks(viewer))
            median, p90 = statistics.median(times), sorted(times)[int(0.9 * len(times))]
            print(f"| {viewer} | {hidden:,} | {median * 1000:.1f} ms | {p90 * 1000:.1f} ms |")
        operator_story = engine.store.claimed_stories(OPERATOR, limit=1)[0][0]
        guild_story = engine.store.claimed_stories(guild, limit=1)[0][0]
        for what, story, scope in (
            ("an operator's", operator_story, OPERATOR),
            ("a server's", guild_story, guild),
        ):
            colds = []
            for i in range(5):  # a claim committed, then the next search
                engine.store.claim(story, scope, f"feed:{scope}-{i}-{engine.store.claims_version()}")
                started = time.perf_counter()
                engine.search(QUESTIONS[i % len(QUESTIONS)], k=10, viewer=guild)
                colds.append(time.perf_counter() - started)
            cold = statistics.median(colds) * 1000
            print(f"first search (viewer {guild}) after {what} claim is committed: median {cold:.1f} ms")
        started = time.perf_counter()
        for _ in range(20):
            engine.store._guild_only = None
            engine.store.hidden_chunks(guild)
        print(
            f"reading the servers' own stories and one viewer's hidden passages: "
            f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
