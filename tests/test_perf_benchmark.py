"""The performance benchmark: its synthetic scale fill writes searchable passages; its CPU counters."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

from index.config import Settings
from index.engine import Engine
from index.text import sentence_spans

from .embedders import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent


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
