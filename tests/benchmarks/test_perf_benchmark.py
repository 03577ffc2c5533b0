"""The performance benchmark: its synthetic scale fill writes searchable passages; its CPU counters."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

from index.config import Settings
from index.engine import Engine
from index.text import sentence_spans
from tests.helpers.embedders import HashEmbedder

ROOT = Path(__file__).resolve().parents[2]


def load_perf():
    spec = importlib.util.spec_from_file_location("perf_benchmark", ROOT / "benchmarks" / "perf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_fill_goes_through_the_store_and_both_indexes(tmp_path):
    perf = load_perf()
    hasher = HashEmbedder()
    centres = hasher.embed(perf.passages(20))
    engine = Engine(Settings(data_dir=tmp_path / "data", _env_file=None), embedder=hasher)
    perf.bulk_synthetic(engine, 300, centres)
    report = engine.reindex()
    assert report.chunks == 300 and report.embedded == 0  # every vector came from the fill
    assert engine.vectors.count == 300 and engine.store.impacts is not None
    article = engine.store.articles(limit=1)[0]
    chunk = engine.store.chunks_of(article.id)[0]
    assert chunk.text == article.body[chunk.start : chunk.end]
    # with the pooled sentence vectors the default backend stores, so answers take the same path
    assert set(engine.store.sentence_vectors([chunk.id])[chunk.id]) == set(sentence_spans(chunk.text))
    assert any(h.article_id == article.id for h in engine.search(article.title, k=5))
    vectors = engine.vectors._stored_vectors()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    engine.close()


def test_synthetic_sentences_get_the_pooled_vectors_of_the_news_sentences_they_were_drawn_from(tmp_path):
    perf = load_perf()
    drafts = perf.synthetic_drafts(3)
    bodies = [next(drafts).body for _ in range(40)]
    drawn = sorted({p.strip() + "." for b in bodies for p in b.split(".") if len(p.split()) > 5})
    rng = np.random.default_rng(0)
    hasher = HashEmbedder()
    dim = hasher.dimension
    pool = {
        t: v / np.linalg.norm(v) for t, v in zip(drawn, rng.standard_normal((len(drawn), dim)), strict=True)
    }
    passage = np.ones(dim, np.float32) / np.sqrt(dim)
    own = total = 0
    for body in bodies:
        spans, vectors = perf.synthetic_sentence_vectors(body, passage, pool, rng)
        assert spans == sentence_spans(body)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        first = body[slice(*spans[0])]
        if first.startswith("Synthetic article") and first.endswith("."):  # drawn from no news sentence
            assert vectors[0] @ passage > 0.98
        for (start, end), vector in zip(spans, vectors, strict=True):
            total += 1
            if body[start:end] in pool:
                own += 1
                assert np.allclose(vector, pool[body[start:end]], atol=1e-5)
    assert own > total / 2

    # a store filled without them gets them once
    engine = Engine(Settings(data_dir=tmp_path / "data", _env_file=None), embedder=hasher)
    perf.bulk_synthetic(engine, 50, hasher.embed(perf.passages(20)), seed=3)
    chunk = engine.store.chunks_of(engine.store.articles(limit=1)[0].id)[0]
    before = engine.store.sentence_vectors([chunk.id])[chunk.id]
    assert perf.refresh_sentence_vectors(engine, pool, seed=3)
    after = engine.store.sentence_vectors([chunk.id])[chunk.id]
    assert set(after) == set(before)
    mine = [(a, b) for a, b in after if chunk.text[a:b] in pool]
    assert mine
    for a, b in mine:
        assert after[(a, b)] @ pool[chunk.text[a:b]] > 0.999 > before[(a, b)] @ pool[chunk.text[a:b]]
    assert not perf.refresh_sentence_vectors(engine, pool, seed=3)  # marked: not rewritten again
    engine.close()


def test_cpu_ticks_read_the_machine_counters():
    """The benchmark reports how much CPU time the hypervisor took (steal) beside its latencies."""
    perf = load_perf()
    total, stolen = perf.cpu_ticks()
    if not Path("/proc/stat").exists():
        assert (total, stolen) == (0, 0)
        return
    assert total > 0 and 0 <= stolen <= total
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:  # busy for ten or so ticks
        pass
    later, stolen_later = perf.cpu_ticks()
    assert later > total and stolen_later >= stolen
