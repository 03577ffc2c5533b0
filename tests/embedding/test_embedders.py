"""Embedding backends: selection by configuration, names that key the index, and agreement with fp32.

The real-model tests load each backend once per session; prepared graphs are kept in the user's cache
folder (~/.cache/newsbot/embedders), so only the first run on a machine pays for the preparation. Which
paths are accurate, and which is fastest, depends on the CPU: the tests assert the accuracy gate of
every path that passed it here, never which one that is.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.config import Settings
from index.embedding import BACKENDS, DEFAULT_BACKEND, check_backend, choose, embedder_name
from index.embedding.embedder import SentenceTransformerEmbedder, load_embedder
from index.embedding.export import default_cache_dir, find_prepared, prepared, read_manifest
from index.engine import Engine
from index.retrieval.vectors import IndexMismatch, VectorIndex
from index.runtime import SWITCH_INTERVAL, tune_process
from tests.conftest import bundled_articles, draft_of

QUERIES = [
    "What did the central bank decide about interest rates?",
    "storm damage",
    "Who won the election?",
]
EDGE_TEXTS = ["", " ", "naïve café — “quoted” text", "emoji 🎉🎉 and CJK 東京", "a" * 3000, "x\n\ny\tz"]


def news_passages(count: int = 8, words: int = 170) -> list[str]:
    out = []
    for record in bundled_articles()[::7]:
        body = record["body"].split()
        out.append(f"{record.get('title') or ''}\n{' '.join(body[:words])}")
    return out[:count]


@pytest.fixture(scope="session")
def torch_embedder():
    return load_embedder(backend="torch")


@pytest.fixture(scope="session")
def int8_embedder(real_embedder):
    """The fastest accurate path of this CPU (the default); fp32 where no faster path is accurate."""
    return real_embedder


@pytest.fixture(scope="session")
def onnx_int8_embedder():
    embedder = load_embedder(backend="onnx-int8", cache_dir=default_cache_dir())
    if embedder.backend != "onnx-int8":
        pytest.skip("ONNX Runtime int8 is not accurate enough on this CPU (fp32 runs instead)")
    return embedder


@pytest.fixture(scope="session")
def onnx_embedder():
    return load_embedder(backend="onnx", cache_dir=default_cache_dir())


# -- configuration and names (no model) ----------------------------------------------------------


def test_names_carry_the_backend_only_when_vectors_differ():
    assert embedder_name("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"
    assert embedder_name("all-MiniLM-L6-v2", "onnx") == "all-MiniLM-L6-v2"
    assert embedder_name("all-MiniLM-L6-v2", "openvino") == "all-MiniLM-L6-v2"
    assert embedder_name("all-MiniLM-L6-v2", "onnx-int8") == "all-MiniLM-L6-v2@onnx-int8"


def test_unknown_backend_is_refused():
    assert check_backend(" ONNX-int8 ") == "onnx-int8"
    with pytest.raises(ValueError, match="unknown embedding backend"):
        load_embedder(backend="tensorrt")


def test_backend_comes_from_settings_and_environment(monkeypatch, tmp_path):
    assert Settings(_env_file=None).embed_backend == DEFAULT_BACKEND in BACKENDS
    monkeypatch.setenv("NEWSBOT_EMBED_BACKEND", "torch")
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    assert settings.embed_backend == "torch"
    seen = {}

    def fake_load(name, **kwargs):
        seen.update(kwargs, name=name)
        return object()

    monkeypatch.setattr("index.engine.load_embedder", fake_load)
    with Engine(settings) as engine:
        engine.embedder  # noqa: B018 - built on first use
    assert seen["backend"] == "torch"
    assert seen["cache_dir"] is None  # the user's cache: a fresh data folder prepares nothing again
    assert seen["name"] == settings.model


def test_index_refuses_vectors_of_another_backend(tmp_path):
    index = VectorIndex("all-MiniLM-L6-v2", 4)
    index.add(np.array([1]), np.eye(4, dtype=np.float32)[:1])
    index.save(tmp_path / "index")
    with pytest.raises(IndexMismatch, match="reindex"):
        VectorIndex.load(tmp_path / "index", "all-MiniLM-L6-v2@onnx-int8", 4)


# -- the real model ------------------------------------------------------------------------------


@pytest.mark.model
def test_torch_backend_is_plain_sentence_transformers(torch_embedder):
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    assert torch_embedder.name == "all-MiniLM-L6-v2"


@pytest.mark.model
@pytest.mark.parametrize("backend", ["auto", "onnx-int8", "openvino-int8", "openvino"])
def test_every_path_used_stays_within_cosine_099_of_fp32(torch_embedder, real_embedder, backend):
    """Whichever path this CPU runs for a backend (the requested one, or fp32 where it is not accurate
    here) keeps the gate against plain sentence-transformers, and rankings agree."""
    if backend.startswith("openvino"):
        pytest.importorskip("openvino")
    fast = load_embedder(backend=backend, cache_dir=default_cache_dir())
    assert fast.name == embedder_name("all-MiniLM-L6-v2", fast.backend)
    assert fast.backend in choose.accurate(read_manifest(fast.folder))
    texts = news_passages() + QUERIES
    fp32 = torch_embedder.embed(texts)
    fast = fast.embed(texts)
    assert fast.dtype == np.float32 and fast.shape == fp32.shape
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(fast * fp32, axis=1)
    assert cosine.mean() >= 0.99, cosine
    assert cosine.min() >= 0.98, cosine  # the export checks the same on 48 news passages
    # rankings agree: each query's nearest passage is the same
    passages = slice(0, len(texts) - len(QUERIES))
    queries = slice(len(texts) - len(QUERIES), None)
    assert (
        np.argmax(fp32[queries] @ fp32[passages].T, axis=1)
        == np.argmax(fast[queries] @ fast[passages].T, axis=1)
    ).all()


@pytest.mark.model
def test_onnx_fp32_reproduces_torch(torch_embedder, onnx_embedder):
    assert onnx_embedder.name == torch_embedder.name  # same vectors, same key
    texts = news_passages(4) + QUERIES
    cosine = np.sum(onnx_embedder.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cosine.min() >= 0.9999


@pytest.mark.model
def test_token_counts_and_budget_are_identical(torch_embedder, int8_embedder):
    texts = news_passages(60, words=400) + QUERIES + EDGE_TEXTS
    assert int8_embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)
    assert int8_embedder.max_tokens == torch_embedder.max_tokens
    assert int8_embedder.dimension == torch_embedder.dimension
    assert int8_embedder.count_tokens([]) == []
    assert int8_embedder.embed([]).shape == (0, int8_embedder.dimension)


@pytest.mark.model
def test_long_and_odd_inputs_embed(int8_embedder):
    vectors = int8_embedder.embed(EDGE_TEXTS)
    assert vectors.shape == (len(EDGE_TEXTS), int8_embedder.dimension)
    assert np.isfinite(vectors).all()


@pytest.mark.model
def test_order_and_batching_do_not_change_vectors(int8_embedder):
    """A text's vector is a function of the text (the embedding cache relies on it): batched with
    others or alone, it is the same to within rounding (bf16 kernels round by batch shape)."""
    texts = news_passages(5) + QUERIES
    together = int8_embedder.embed(texts)
    alone = np.stack([int8_embedder.embed([t])[0] for t in reversed(texts)])[::-1]
    assert np.sum(together * alone, axis=1).min() >= 0.999


@pytest.mark.model
def test_one_text_embeds_alike_on_a_free_session_or_the_shared_one(onnx_int8_embedder):
    """With ONNX Runtime int8, a question runs on a free single-threaded session, or on the shared one
    when every one is busy (an ingest running): the same vector either way."""
    int8_embedder = onnx_int8_embedder
    if not int8_embedder.workers:
        pytest.skip("one core: there is only the shared session")
    free = int8_embedder.embed(QUERIES[:1])
    taken = [int8_embedder.idle.get() for _ in int8_embedder.workers]
    try:
        busy = int8_embedder.embed(QUERIES[:1])
    finally:
        for session in taken:
            int8_embedder.idle.put(session)
    np.testing.assert_allclose(free, busy, atol=1e-5)


def test_the_entry_points_hand_the_gil_over_quickly(tmp_path):
    """Threads coming back from the model or FAISS wait at most a short switch interval for the GIL:
    set once by the entry points (`tune_process`), never by building an engine."""
    sys.setswitchinterval(0.005)  # Python's default
    with Engine(Settings(data_dir=tmp_path / "data", _env_file=None)):
        assert sys.getswitchinterval() == pytest.approx(0.005)
    tune_process()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)


def test_the_entry_points_keep_numpys_blas_but_not_faisss_to_one_thread(tmp_path):
    """numpy's BLAS threads would spin beside the embedding sessions; FAISS keeps its cores to build."""
    import faiss  # noqa: F401  (its own BLAS loaded, as in the engine)
    from threadpoolctl import ThreadpoolController

    def threads() -> dict[str, int]:
        return {
            "numpy" if "numpy" in i["filepath"] else "other": i["num_threads"]
            for i in ThreadpoolController().info()
            if i["user_api"] == "blas"
        }

    ThreadpoolController().select(user_api="blas").limit(limits=2)  # as a fresh process on 2 cores
    assert threads()["numpy"] == 2
    with Engine(Settings(data_dir=tmp_path / "data", _env_file=None)):
        assert threads()["numpy"] == 2  # building an engine changes nothing process-wide
    tune_process()
    found = threads()
    assert found["numpy"] == 1
    assert found.get("other", 2) == 2


def test_warm_up_runs_the_model_and_loads_the_indexes(engine, monkeypatch):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:2])
    engine.reindex()  # builds the keyword index too
    runs, embed = [], engine.embedder.embed
    monkeypatch.setattr(engine.embedder, "embed", lambda texts: runs.append(texts) or embed(texts))
    reopened = Engine(engine.settings, embedder=engine.embedder)
    reopened.warm_up()
    assert len(runs) == 1
    assert reopened._vectors is not None and reopened._vectors.count == engine.vectors.count > 0
    assert reopened.store.impacts is not None


@pytest.mark.model
def test_prepared_model_is_reused_and_records_the_choice(int8_embedder):
    """A second load (another data folder, another process) finds the prepared folder as it is; its
    manifest records this CPU's features, the path chosen and its accuracy."""
    from index.embedding import cpu

    folder = int8_embedder.folder
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    manifest = read_manifest(folder)
    assert prepared(Path(manifest["model_path"]), folder.parent) == folder
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp
    assert manifest["cpu"] == cpu.features()
    choice = manifest["choice"]
    assert choice["backend"] in choose.accurate(manifest) and choice["backend"] in choice["passages_per_s"]
    if choice["backend"] != "onnx":
        assert choice["cosine_mean"] >= 0.99 and choice["cosine_min"] >= 0.98


@pytest.mark.model
def test_a_folder_prepared_on_another_cpu_is_not_trusted(int8_embedder, tmp_path):
    """A cache copied from a machine with other CPU features is prepared again, not used as it is."""
    folder = int8_embedder.folder
    manifest = read_manifest(folder)
    copy = tmp_path / folder.name
    copy.mkdir()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    model_path = Path(manifest["model_path"])
    assert find_prepared(model_path, tmp_path) == copy
    manifest["cpu"] = {**manifest["cpu"], "flags": ["avx2", "fma"]}  # checked on an AVX2-only machine
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert find_prepared(model_path, tmp_path) is None


def test_auto_keeps_an_existing_index_path_while_it_is_accurate():
    manifest = {
        "int8": {"file": "model-int8.onnx"},
        "openvino": {"plain": {"accurate": True}, "int8": {"file": None}},
        "choice": {"backend": "onnx-int8", "passages_per_s": {"onnx": 40, "onnx-int8": 100, "openvino": 90}},
    }
    model = "all-MiniLM-L6-v2"
    assert choose.resolve(manifest, "auto", model=model) == "onnx-int8"
    assert choose.resolve(manifest, "auto", model=model, keyed_as=model) == "openvino"  # fp32-keyed index
    assert choose.resolve(manifest, "auto", model=model, keyed_as=f"{model}@onnx-int8") == "onnx-int8"
    # an index of a path not accurate here: the choice (the index then asks for `newsbot reindex`)
    assert choose.resolve(manifest, "auto", model=model, keyed_as=f"{model}@openvino-int8") == "onnx-int8"
    assert choose.resolve(manifest, "openvino-int8", model=model) == "onnx"  # asked for, not accurate: fp32
    assert choose.resolve(manifest, "openvino", model=model) == "openvino"


@pytest.mark.model
def test_openvino_backend_reproduces_fp32(torch_embedder):
    pytest.importorskip("openvino")
    embedder = load_embedder(backend="openvino", cache_dir=default_cache_dir())
    assert embedder.name == torch_embedder.name
    texts = news_passages(3) + QUERIES
    cosine = np.sum(embedder.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cosine.min() >= 0.999


def test_the_first_run_says_the_path_and_its_accuracy_in_one_line():
    manifest = {"choice": {"backend": "openvino-int8", "cosine_mean": 0.9974, "cosine_min": 0.9961}}
    manifest["choice"].update(checked_on=48, speedup_vs_fp32=3.4)
    line = choose.summary(manifest)
    assert "\n" not in line and "openvino-int8" in line and "0.997" in line and "0.996" in line
    manifest["choice"]["backend"] = "onnx"
    assert "fp32" in choose.summary(manifest) and "no accurate faster path" in choose.summary(manifest)


def test_stats_show_the_embedding_path_without_loading_the_model(tmp_path):
    with Engine(Settings(data_dir=tmp_path / "data", _env_file=None)) as engine:
        stats = engine.stats()
        assert engine._embedder is None  # nothing loaded or prepared to answer `stats`
    assert {"articles", "chunks", "vectors", "model", "dimension", "index_built_at"} <= set(stats)
    embedding = stats["embedding"]
    assert embedding["configured"] == "auto" and embedding["cpu"]
    assert embedding["path"] in (*choose.CANDIDATES, "not prepared yet (on first use)")


def test_the_engine_hands_an_existing_index_name_to_the_loader(monkeypatch, tmp_path):
    index = VectorIndex("all-MiniLM-L6-v2@onnx-int8", 4)
    index.add(np.array([1]), np.eye(4, dtype=np.float32)[:1])
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    index.save(settings.index_dir)
    seen = {}
    monkeypatch.setattr("index.engine.load_embedder", lambda name, **kwargs: seen.update(kwargs) or object())
    with Engine(settings) as engine:
        engine.embedder  # noqa: B018 - built on first use
    assert seen["keyed_as"] == "all-MiniLM-L6-v2@onnx-int8"


def test_only_builds_unused_for_a_month_are_removed(tmp_path):
    """Another installed version of newsbot may be using its own build: age decides, not the version."""
    from index.embedding import export

    cache = tmp_path / "embedders"
    target = cache / "m-model-aaaaaaaaaaaa-x86_64-11111111"
    in_use = cache / "m-model-bbbbbbbbbbbb-x86_64-11111111"
    stale = cache / "m-model-cccccccccccc-x86_64-11111111"
    other_model = cache / "n-model-dddddddddddd-x86_64-11111111"
    for folder in (target, in_use, stale, other_model):
        folder.mkdir(parents=True)
    month_ago = time.time() - (export.STALE_DAYS + 1) * 86400
    for folder in (stale, other_model):
        os.utime(folder, (month_ago, month_ago))
    export._remove_stale(target)
    assert sorted(p.name for p in cache.iterdir()) == sorted([target.name, in_use.name, other_model.name])
