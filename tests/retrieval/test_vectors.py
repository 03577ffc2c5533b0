"""The vector index: kind chosen by size, HNSW with deletions, persistence, refusal, atomic save."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from index.engine import Engine
from index.retrieval import vectors as vectors_module
from index.retrieval.faiss_kinds import training_size
from index.retrieval.vectors import FLAT, HNSW, IVF, IndexMismatch, VectorIndex, current_version, read_meta
from tests.conftest import bundled_articles, draft_of

DIM = 32


def clustered(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    """Unit vectors around a few centres, like embeddings of related passages."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((16, dim)).astype(np.float32)
    x = centres[rng.integers(0, 16, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fill(index: VectorIndex, x: np.ndarray, first_id: int = 1, step: int = 64) -> None:
    for start in range(0, len(x), step):
        index.add(np.arange(start, min(start + step, len(x))) + first_id, x[start : start + step])


def top_ids(index: VectorIndex, query: np.ndarray, k: int = 10, allowed=None) -> list[int]:
    return [i for i, _ in index.search(query, k, allowed)]


def test_small_index_stays_exact():
    index = VectorIndex("m", DIM, threshold=1000)
    fill(index, clustered(300))
    assert index.kind == FLAT and index.meta().kind == FLAT and index.count == 300


def test_fresh_index_switches_to_hnsw_at_the_threshold_with_good_recall():
    x = clustered(1500)
    index = VectorIndex("m", DIM, threshold=1000)
    fill(index, x)
    assert index.kind == HNSW and index.count == 1500
    assert sorted(index.ids().tolist()) == list(range(1, 1501))
    exact = VectorIndex("m", DIM, threshold=10**9)
    fill(exact, x)
    queries = clustered(40, seed=1)
    recall = np.mean([len(set(top_ids(index, q)) & set(top_ids(exact, q))) / 10 for q in queries])
    assert recall >= 0.95
    first_id, score = index.search(x[7], 1)[0]
    assert first_id == 8 and score == pytest.approx(1.0, abs=1e-5)


def test_a_loaded_index_keeps_its_kind_until_reindex(tmp_path):
    index = VectorIndex("m", DIM, threshold=100)
    fill(index, clustered(50))
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, "m", DIM)
    loaded.threshold = 100
    fill(loaded, clustered(200, seed=2), first_id=1000)
    assert loaded.kind == FLAT  # grows by ingest without a rebuild behind the user's back


def test_hnsw_add_remove_and_filters():
    x = clustered(600)
    index = VectorIndex("m", DIM, threshold=100)
    fill(index, x)
    assert index.kind == HNSW
    assert index.remove(np.array([1, 2, 3, 99999])) == 3
    assert index.remove(np.array([2])) == 0  # already gone
    assert index.count == 597 and index.deleted == 3
    assert 1 not in index.ids() and 4 in index.ids()
    hits = top_ids(index, x[0], k=50)
    assert not {1, 2, 3} & set(hits)
    # filtered: only allowed ids, and never deleted ones, exact over a small allowed set
    allowed = np.array([1, 2, 10, 11, 12, 500])
    got = index.search(x[10], 10, allowed)
    assert {i for i, _ in got} == {10, 11, 12, 500}
    assert got[0][0] == 11 and got[0][1] == pytest.approx(1.0, abs=1e-5)
    assert index.search(x[0], 5, np.array([1, 2])) == []
    assert index.search(x[0], 5, np.array([], dtype=np.int64)) == []
    # a large allowed set goes through the graph with the filter
    vectors_module_max = vectors_module.EXACT_FILTER_MAX
    try:
        vectors_module.EXACT_FILTER_MAX = 10
        big = np.arange(1, 400)
        hits = top_ids(index, x[200], k=10, allowed=big)
        assert hits and set(hits) <= set(range(4, 400)) and hits[0] == 201
    finally:
        vectors_module.EXACT_FILTER_MAX = vectors_module_max
    # incremental adds after removals
    index.add(np.array([5000]), x[:1])
    assert index.search(x[0], 1)[0][0] == 5000 and index.count == 598


def test_an_id_removed_from_hnsw_can_come_back():
    x = clustered(300)
    index = VectorIndex("m", DIM, threshold=100)
    fill(index, x)
    index.remove(np.array([5]))
    index.add(np.array([5]), x[100:101])  # new vector for an old id: the graph is compacted first
    assert index.deleted == 0 and index.count == 300
    assert index.search(x[100], 2)[0][1] == pytest.approx(1.0, abs=1e-5)
    assert 5 in {i for i, _ in index.search(x[100], 2)}
    assert 5 not in top_ids(index, x[4], k=3) or index.search(x[4], 1)[0][0] != 5


def test_flat_remove_really_removes():
    x = clustered(50)
    index = VectorIndex("m", DIM)
    fill(index, x)
    assert index.remove(np.array([1, 2])) == 2 and index.count == 48 and index.deleted == 0


def test_hnsw_round_trip_keeps_kind_and_deletions(tmp_path):
    x = clustered(400)
    index = VectorIndex("m", DIM, threshold=100)
    fill(index, x)
    index.remove(np.array([1, 2]))
    live = index.save(tmp_path)
    meta = json.loads((live / "meta.json").read_text())
    assert meta["kind"] == HNSW and meta["count"] == 398 and meta["deleted"] == 2
    assert meta["params"]["m"] == 32
    loaded = VectorIndex.load(tmp_path, "m", DIM)
    assert loaded.kind == HNSW and loaded.count == 398 and loaded.deleted == 2
    assert 1 not in top_ids(loaded, x[0], k=20)
    assert top_ids(loaded, x[50], k=1) == top_ids(index, x[50], k=1) == [51]
    assert sorted(loaded.ids().tolist()) == sorted(index.ids().tolist())


def test_load_refuses_another_model_or_backend(tmp_path):
    index = VectorIndex("all-MiniLM-L6-v2@onnx-int8", DIM)
    fill(index, clustered(10))
    index.save(tmp_path)
    with pytest.raises(IndexMismatch, match="reindex"):
        VectorIndex.load(tmp_path, "all-MiniLM-L6-v2", DIM)
    with pytest.raises(IndexMismatch):
        VectorIndex.load(tmp_path, "all-MiniLM-L6-v2@onnx-int8", DIM + 1)
    assert VectorIndex.load(tmp_path, "all-MiniLM-L6-v2@onnx-int8", DIM).count == 10
    assert VectorIndex.load(tmp_path / "none", "m", DIM) is None


@pytest.mark.parametrize("failing", ["write_index", "meta"])
def test_a_failed_save_leaves_the_previous_version_live(tmp_path, monkeypatch, failing):
    x = clustered(20)
    index = VectorIndex("m", DIM)
    fill(index, x[:10])
    first = index.save(tmp_path)
    fill(index, x[10:], first_id=100)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    if failing == "write_index":
        monkeypatch.setattr(faiss, "write_index", boom)
    else:
        monkeypatch.setattr(vectors_module, "write_atomic", boom)
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path)
    assert current_version(tmp_path) == first
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [first.name]  # no staging left
    assert VectorIndex.load(tmp_path, "m", DIM).count == 10


def test_reindex_switches_to_hnsw_and_compacts(engine, monkeypatch):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:12])
    assert read_meta(engine.settings.index_dir)["kind"] == FLAT
    chunks = engine.vectors.count
    monkeypatch.setattr(vectors_module, "HNSW_THRESHOLD", max(chunks // 2, 2))
    engine.reindex()
    meta = read_meta(engine.settings.index_dir)
    assert meta["kind"] == HNSW and meta["count"] == chunks
    hit = engine.search(bundled_articles()[3]["title"], k=3)
    assert hit
    # removals on the HNSW index are filtered, persisted, and gone after the next reindex
    victim = hit[0].article_id
    assert engine.remove(victim)
    meta = read_meta(engine.settings.index_dir)
    assert meta["deleted"] > 0 and meta["count"] < chunks
    reopened = Engine(engine.settings, embedder=engine.embedder)
    try:
        assert reopened.vectors.kind == HNSW and reopened.vectors.deleted == meta["deleted"]
    finally:
        reopened.close()
    engine.reindex()
    meta = read_meta(engine.settings.index_dir)
    assert meta["kind"] == HNSW and meta["deleted"] == 0
    monkeypatch.setattr(vectors_module, "HNSW_THRESHOLD", 10**9)
    engine.reindex()
    assert read_meta(engine.settings.index_dir)["kind"] == FLAT  # back to exact when small again


def test_fresh_index_grows_to_an_inverted_file_with_good_recall():
    x = clustered(5000)
    index = VectorIndex("m", DIM, threshold=1000, ivf_threshold=4000)
    kinds = []
    for start in range(0, len(x), 500):
        index.add(np.arange(start, start + 500) + 1, x[start : start + 500])
        kinds.append(index.kind)
    assert kinds[1] == HNSW and kinds[-1] == IVF and index.count == 5000
    assert index.meta().params == {"cells": 256, "scanned": 64, "stored": "float16"}
    assert faiss.extract_index_ivf(index.index).code_size == 2 * DIM  # half of float32 vectors
    assert sorted(index.ids().tolist()) == list(range(1, 5001))
    exact = VectorIndex("m", DIM, threshold=10**9, ivf_threshold=10**9)
    fill(exact, x)
    rng = np.random.default_rng(3)
    queries = x[rng.integers(0, len(x), 40)] + 0.05 * rng.standard_normal((40, DIM)).astype(np.float32)
    recall = np.mean([len(set(top_ids(index, q)) & set(top_ids(exact, q))) / 10 for q in queries])
    assert recall >= 0.9, recall
    assert index.search(x[7], 1)[0] == (8, pytest.approx(1.0, abs=1e-3))  # float16 vectors


def test_an_index_filled_to_a_known_size_skips_hnsw():
    x = clustered(3000)
    index = VectorIndex("m", DIM, threshold=500, ivf_threshold=2000, expected=3000)
    kinds = set()
    for start in range(0, len(x), 250):
        index.add(np.arange(start, start + 250) + 1, x[start : start + 250])
        kinds.add(index.kind)
    assert kinds == {FLAT, IVF}  # flat while filling (cheap appends), then trained on all of it


def test_an_index_that_gets_fewer_passages_than_expected_settles_on_their_size(tmp_path):
    index = VectorIndex("m", DIM, threshold=500, ivf_threshold=2000, expected=3000)
    fill(index, clustered(1000))
    assert index.kind == FLAT  # still waiting for the 3,000
    index.save(tmp_path)
    assert index.kind == HNSW and read_meta(tmp_path)["kind"] == HNSW


def test_an_inverted_file_trained_on_a_sample_is_filled_directly_with_good_recall():
    x = clustered(3000)
    rng = np.random.default_rng(5)
    sample = x[rng.permutation(len(x))[: training_size(3000)]]
    index = VectorIndex("m", DIM, threshold=500, ivf_threshold=2000, expected=3000, sample=sample)
    assert index.kind == IVF and index.count == 0  # trained before the first vector comes
    kinds = set()
    for start in range(0, len(x), 250):
        index.add(np.arange(start, start + 250) + 1, x[start : start + 250])
        kinds.add(index.kind)
    assert kinds == {IVF} and index.count == 3000
    exact = VectorIndex("m", DIM, threshold=10**9, ivf_threshold=10**9)
    fill(exact, x)
    queries = x[rng.integers(0, len(x), 40)] + 0.05 * rng.standard_normal((40, DIM)).astype(np.float32)
    recall = np.mean([len(set(top_ids(index, q)) & set(top_ids(exact, q))) / 10 for q in queries])
    assert recall >= 0.9, recall


def test_a_trained_inverted_file_filled_short_settles_on_the_kind_of_its_size(tmp_path):
    x = clustered(3000)
    index = VectorIndex("m", DIM, threshold=500, ivf_threshold=2000, expected=3000, sample=x[:800])
    fill(index, x[:1200])
    index.save(tmp_path)
    assert index.kind == HNSW and read_meta(tmp_path)["kind"] == HNSW and index.count == 1200
    assert top_ids(index, x[100], k=1) == [101]


def test_inverted_file_removals_filters_and_round_trip(tmp_path):
    x = clustered(3000)
    index = VectorIndex("m", DIM, threshold=500, ivf_threshold=2000)
    fill(index, x)
    assert index.kind == IVF
    assert index.remove(np.array([1, 2, 3, 99999])) == 3 and index.count == 2997 and index.deleted == 3
    assert not {1, 2, 3} & set(top_ids(index, x[0], k=50))
    allowed = np.array([1, 2, 10, 11, 12, 2500])
    got = index.search(x[10], 10, allowed)  # a few allowed ids: exact over their stored vectors
    assert {i for i, _ in got} == {10, 11, 12, 2500} and got[0] == (11, pytest.approx(1.0, abs=1e-3))
    live = index.save(tmp_path)
    assert json.loads((live / "meta.json").read_text())["kind"] == IVF
    loaded = VectorIndex.load(tmp_path, "m", DIM)
    assert (loaded.kind, loaded.count, loaded.deleted) == (IVF, 2997, 3)
    assert top_ids(loaded, x[50], k=1) == [51] and 1 not in top_ids(loaded, x[0], k=50)
    loaded.add(np.array([1]), x[1000:1001])  # an id coming back: rebuilt without its old vector
    assert loaded.kind == IVF and loaded.deleted == 0 and loaded.count == 2998
    assert loaded.search(x[1000], 2)[0][1] == pytest.approx(1.0, abs=1e-3)


def test_reindex_builds_an_inverted_file_for_a_large_corpus(engine, monkeypatch):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:12])
    chunks = engine.vectors.count
    monkeypatch.setattr(vectors_module, "IVF_THRESHOLD", max(chunks // 2, 2))
    sampled = []
    sample_vectors = engine.store.sample_vectors
    monkeypatch.setattr(engine.store, "sample_vectors", lambda n: sampled.append(n) or sample_vectors(n))
    engine.reindex()
    assert sampled == [training_size(chunks)]  # trained first on a sample
    meta = read_meta(engine.settings.index_dir)
    assert meta["kind"] == IVF and meta["count"] == chunks
    title = bundled_articles()[3]["title"]
    assert any(h.title == title for h in engine.search(title, k=3))


def test_after_a_reindex_the_engine_serves_the_index_read_back_from_disk(engine, monkeypatch):
    """A filled FAISS index holds slack in its lists; the saved file is exact, so that is what serves."""
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:6])
    loads = []
    load = VectorIndex.load
    monkeypatch.setattr(
        VectorIndex, "load", classmethod(lambda cls, *a: loads.append(a) or load.__func__(cls, *a))
    )
    engine.reindex()
    assert loads and loads[-1][0] == engine.settings.index_dir
    assert engine.vectors.count == engine.store.counts()["chunks"]
    assert engine.vectors.built_at == read_meta(engine.settings.index_dir)["built_at"]
    title = bundled_articles()[2]["title"]
    assert any(h.title == title for h in engine.search(title, k=3))
