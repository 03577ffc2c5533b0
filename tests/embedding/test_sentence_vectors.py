"""Sentence vectors pooled from the passage's own run of the model (index/embedding/sentence_vectors.py): the
pooling, their storage at ingest, and answers that embed only the candidates they rank best."""

from __future__ import annotations

import numpy as np
import pytest

from index.answers import extract
from index.answers.ask import answer
from index.answers.candidates import pooled_vectors
from index.embedding import embedder as embedding
from index.embedding import sentence_map
from index.embedding.export import read_manifest
from index.embedding.sentence_vectors import aligned, pool
from index.storage.embeddings import pack, unpack
from index.storage.spans import decode_spans
from index.text import sentence_spans
from tests.conftest import bundled_articles


def test_pooling_averages_exactly_the_tokens_inside_each_span():
    rng = np.random.default_rng(0)
    tokens = rng.standard_normal((7, 4)).astype(np.float32)
    # [CLS] "The" "cat" "s" "sat" [SEP] padding: special and padding tokens never count
    offsets = np.array([(0, 0), (0, 3), (4, 7), (7, 8), (9, 12), (0, 0), (0, 0)])
    mask = np.array([1, 1, 1, 1, 1, 1, 0])
    out = pool(tokens, offsets, mask, [(0, 8), (9, 12), (20, 30), (5, 10)])
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    assert np.allclose(out[0], unit(tokens[1:4].mean(axis=0)), atol=1e-6)
    assert np.allclose(out[1], unit(tokens[4]), atol=1e-6)
    assert not out[2].any()  # past the tokens the model read: no vector
    assert np.allclose(out[3], unit(tokens[2:5].mean(axis=0)), atol=1e-6)  # tokens a span touches


def test_packed_vectors_keep_their_direction():
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    blob = pack(vectors)
    assert len(blob) == 50 * (384 + 4)
    back = unpack(blob, 50)
    cosines = np.sum(back * vectors, axis=1) / np.linalg.norm(back, axis=1)
    assert back.shape == vectors.shape and cosines.min() > 0.9999


def test_each_pooled_vector_is_nearest_the_sentence_it_pools(real_embedder):
    texts = [f"{r['title']}\n{' '.join(r['body'].split()[:150])}" for r in bundled_articles()[:40:8]]
    spans = [sentence_spans(t) for t in texts]
    vectors, pooled = real_embedder.embed_passages(texts, spans)
    assert np.array_equal(vectors, real_embedder.embed(texts))  # the passage vectors are unchanged
    hits = total = 0
    for text, sp, matrix in zip(texts, spans, pooled, strict=True):
        alone = real_embedder.embed([text[s:e] for s, e in sp])
        assert matrix.shape == alone.shape
        similarity = alone @ matrix.T  # row: a sentence embedded alone; column: a pooled vector
        hits += int(np.sum(similarity.argmax(axis=1) == np.arange(len(sp))))
        total += len(sp)
    assert hits / total >= 0.8, f"{hits} of {total} sentences nearest their own pooled vector"


def test_the_fitted_map_recovers_a_linear_relation():
    rng = np.random.default_rng(2)
    truth = rng.standard_normal((16, 16)).astype(np.float32)
    pooled = rng.standard_normal((400, 16)).astype(np.float32)
    alone = pooled @ truth + 0.01 * rng.standard_normal((400, 16)).astype(np.float32)
    fitted = sentence_map.fit(pooled, alone, ridge=0.01)
    assert np.abs(fitted - truth).max() < 0.01
    assert np.abs(sentence_map.fit(pooled, alone, ridge=1e6)).max() < 0.05  # ridge shrinks it


def test_the_export_maps_pooled_vectors_to_rank_a_passages_sentences_as_alone(real_embedder):
    recorded = read_manifest(real_embedder.folder)["sentence_map"]
    assert real_embedder.sentence_map.shape == (real_embedder.dimension, real_embedder.dimension)
    assert recorded["fitted_on"] >= sentence_map.MIN_SENTENCES
    assert recorded["agreement_after"] > recorded["agreement_before"]  # on articles kept out of the fit
    # the same, measured here, on articles the fit never saw: each ranks its sentences against its title
    held = [
        r for n, r in enumerate(bundled_articles()) if n % sentence_map.HELD_OUT == sentence_map.HELD_OUT - 1
    ]
    texts = [f"{r['title']}\n{' '.join(r['body'].split()[:150])}" for r in held]
    spans = [[(s, e) for s, e in sentence_spans(t) if e - s > 20] for t in texts]
    _, pooled = real_embedder.embed_passages(texts, spans)
    raw = np.concatenate(pooled)
    alone = real_embedder.embed([t[s:e] for t, sp in zip(texts, spans, strict=True) for s, e in sp])
    titles = real_embedder.embed([r["title"] for r in held])
    passages = np.repeat(np.arange(len(texts)), [len(sp) for sp in spans])
    queries = titles[passages]
    before = sentence_map.agreement(raw, alone, queries, passages)
    after = sentence_map.agreement(aligned(raw, real_embedder.sentence_map), alone, queries, passages)
    assert after > before + 0.02, (before, after)


def test_answers_rank_candidates_by_mapped_pooled_vectors(news_engine, monkeypatch):
    hits = news_engine.search(QUESTION, k=12)
    stored = news_engine.store.sentence_vectors([h.chunk_id for h in hits])
    raw = {
        (h.article_id, h.start + s, h.start + e): v
        for h in hits
        for (s, e), v in stored.get(h.chunk_id, {}).items()
    }
    mapped = pooled_vectors(hits, news_engine)
    assert raw and set(mapped) == set(raw)
    keys = list(raw)
    expected = aligned(np.stack([raw[k] for k in keys]), news_engine.embedder.sentence_map)
    assert np.allclose(np.stack([mapped[k] for k in keys]), expected, atol=1e-5)
    monkeypatch.setattr(news_engine.embedder, "sentence_map", None)  # an export without a map
    unmapped = pooled_vectors(hits, news_engine)
    assert all(np.array_equal(unmapped[k], raw[k]) for k in keys)


def test_ingest_stores_a_vector_for_every_sentence_of_every_passage(news_engine):
    store = news_engine.store
    rows = store.db.execute("SELECT id, sentences FROM chunks ORDER BY id LIMIT 30").fetchall()
    found = store.sentence_vectors([chunk_id for chunk_id, _ in rows])
    for chunk_id, sentences in rows:
        assert set(found[chunk_id]) == set(decode_spans(sentences))
        assert all(abs(np.linalg.norm(v) - 1) < 0.01 for v in found[chunk_id].values())


QUESTION = "What did a judge rule about Donald Trump's real estate empire?"


@pytest.fixture
def counted(real_embedder, monkeypatch):
    """How many texts the model embeds (the answers' cache of sentence vectors emptied first)."""
    texts: list[str] = []
    embed = real_embedder.embed

    def counting(batch):
        texts.extend(batch)
        return embed(batch)

    monkeypatch.setattr(real_embedder, "embed", counting)
    monkeypatch.setattr(embedding, "_cache", type(embedding._cache)())
    return texts


def test_an_answer_embeds_only_the_candidates_its_pooled_vectors_rank_best(news_engine, counted):
    result = answer(news_engine, QUESTION)
    assert not result.abstained
    assert "committed fraud" in result.citations[0].excerpt
    questions = [t for t in counted if t == QUESTION]
    sentences = [t for t in counted if t != QUESTION]
    assert len(questions) == 1  # by search; its vector is reused to score the sentences
    assert 0 < len(sentences) <= extract.EMBED_BEST


def test_unmapped_pooled_vectors_have_more_candidates_embedded(news_engine, counted, monkeypatch):
    monkeypatch.setattr(news_engine.embedder, "sentence_map", None)
    result = answer(news_engine, QUESTION)
    assert not result.abstained and "committed fraud" in result.citations[0].excerpt
    sentences = [t for t in counted if t != QUESTION]
    assert extract.EMBED_BEST < len(sentences) <= extract.EMBED_BEST_UNMAPPED


def test_without_pooled_vectors_every_prefiltered_candidate_is_embedded(news_engine, counted, monkeypatch):
    monkeypatch.setattr(news_engine.store, "sentence_vectors", lambda chunk_ids: {})
    result = answer(news_engine, QUESTION)
    assert not result.abstained and "committed fraud" in result.citations[0].excerpt
    assert len([t for t in counted if t != QUESTION]) > extract.EMBED_BEST


def test_sentence_vectors_of_unused_passages_are_pruned(engine):
    store = engine.store
    store.put_sentence_vectors({"gone": ([(0, 5)], np.ones((1, 8), np.float32) / np.sqrt(8))})
    assert store.db.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0] == 1
    store.prune_vectors()
    assert store.db.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0] == 0
