"""The impact index (index/retrieval/lexical.py) ranks exactly as FTS5's bm25() does, and stays in
step with SQLite."""

import itertools
import json

import numpy as np
import pytest

from index.engine import Engine
from index.retrieval.lexical import K1, MASKS, B, Corpus, ImpactIndex, needs_build
from index.storage.records import Filters
from tests.conftest import bundled_articles, draft_of

QUESTIONS = [
    "What did the judge rule about Donald Trump and the banks?",
    "interest rates inflation central bank",
    "Sam Bankman-Fried trial witnesses testified",  # stems: testified -> testifi
    "jellyfish learning without a brain",
    "football match result December 2023",  # date words are indexed with each passage
    "rate rates rating",  # three words, one or two stems: FTS5 sums one score per quoted word
]


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:16])
    return engine


def fts_only(engine: Engine, query: str, limit: int = 40, filters: Filters | None = None):
    impacts, engine.store.impacts = engine.store.impacts, None
    try:
        return engine.store.lexical(query, limit, filters or Filters())
    finally:
        engine.store.impacts = impacts


def assert_same_ranking(got, expected):
    """Rank by rank the same scores, each passage with its own FTS5 score (float16 impacts may
    swap near-ties, including at the cut-off)."""
    assert len(got) == len(expected)
    assert np.allclose([s for _, s in got], [s for _, s in expected], rtol=2e-3)
    fts = dict(expected)
    close = [i for i, s in got if i in fts and abs(fts[i] - s) <= 2e-3 * abs(s)]
    tied_at_cut = [i for i, s in got if i not in fts and abs(s - expected[-1][1]) <= 2e-3 * abs(s)]
    assert len(close) + len(tied_at_cut) == len(got)


@pytest.mark.parametrize("question", QUESTIONS)
def test_impact_scores_are_fts5_bm25_scores(loaded: Engine, question):
    expected = fts_only(loaded, question)
    loaded.reindex()
    assert loaded.store.impacts is not None and loaded.store.impacts.size > 0
    got = loaded.store.lexical(question, 40)
    assert expected, "the question should match some passages"
    assert_same_ranking(got, expected)


def test_filters_give_the_same_passages_as_sql(loaded: Engine):
    loaded.reindex()
    outlet = loaded.store.sources()[0]["source"]
    for filters in [
        Filters(sources=(outlet.upper(),)),
        Filters(since="2023-10-01", until="2023-11-30"),
        Filters(since="2023-12-01", sources=(outlet, "nowhere")),
    ]:
        assert_same_ranking(
            loaded.store.lexical("court judge ruling", 30, filters),
            fts_only(loaded, "court judge ruling", 30, filters),
        )
        impacts, loaded.store.impacts = loaded.store.impacts, None
        sql = loaded.store.allowed_chunk_ids(filters)
        loaded.store.impacts = impacts
        assert sorted(loaded.store.allowed_chunk_ids(filters).tolist()) == sorted(sql.tolist())


def test_kept_filter_masks_answer_as_sql_does(loaded: Engine):
    """Masks of recent filters are kept and reused; more filters than are kept, asked twice over."""
    loaded.reindex()
    store = loaded.store
    outlet = store.sources()[0]["source"]
    starts = [f"{year}-{month:02d}-01" for year in (2023, 2024) for month in range(1, 13)]
    assert len(starts) > MASKS
    for _ in range(2):
        for since in starts:
            filters = Filters(since=since, sources=(outlet,) if since < "2024" else None)
            expected = without_impacts(loaded, lambda f=filters: store.allowed_chunk_ids(f))
            assert sorted(store.allowed_chunk_ids(filters).tolist()) == sorted(expected.tolist())
    assert len(store.impacts._masks) == MASKS


def test_passages_added_after_the_build_are_ranked_by_fts5(loaded: Engine):
    loaded.reindex()
    covered = loaded.store.impacts.max_id
    report = loaded.ingest_items([draft_of(bundled_articles()[40])])
    assert report.added == 1
    new = {c.id for a in loaded.store.articles() for c in loaded.store.chunks_of(a.id) if c.id > covered}
    assert new
    title = bundled_articles()[40]["title"]
    hits = loaded.store.lexical(title, 10)
    assert hits[0][0] in new
    assert_same_ranking(hits, fts_only(loaded, title, 10))
    assert new <= set(loaded.store.allowed_chunk_ids(Filters(since="1900-01-01")).tolist())


def test_passages_another_process_added_are_ranked_too(loaded: Engine, settings):
    loaded.reindex()
    loaded.store.lexical("warm the tokenizer", 5)
    with Engine(settings, embedder=loaded.embedder) as other:  # e.g. `newsbot ingest` beside the bot
        other.ingest_items([draft_of(bundled_articles()[40])])
    title = bundled_articles()[40]["title"]
    hits = loaded.store.lexical(title, 10)
    assert hits and hits[0][0] > loaded.store.impacts.max_id


def test_removed_passages_are_never_returned(loaded: Engine, settings):
    loaded.reindex()
    record = bundled_articles()[3]
    article = next(a for a in loaded.store.articles() if a.title == record["title"])
    gone = {c.id for c in loaded.store.chunks_of(article.id)}
    assert gone & {i for i, _ in loaded.store.lexical(record["title"], 10)}
    assert gone <= set(loaded.store.allowed_chunk_ids(Filters(since="1900-01-01")).tolist())  # mask kept
    assert loaded.remove(article.id)
    assert not gone & {i for i, _ in loaded.store.lexical(record["title"], 40)}
    assert not gone & set(loaded.store.allowed_chunk_ids(Filters(since="1900-01-01")).tolist())
    # a fresh process loads the saved index and masks what SQLite no longer has
    with Engine(settings, embedder=loaded.embedder) as again:
        again.vectors  # noqa: B018 (loads the derived indexes)
        assert again.store.impacts is not None and again.store.impacts.max_id >= max(gone)
        assert not gone & {i for i, _ in again.store.lexical(record["title"], 40)}


def test_a_question_of_function_words_only_falls_back_to_fts5(loaded: Engine):
    loaded.reindex()
    assert loaded.store.impacts.search(loaded.store._tokens(["the", "what"]), 10) is None
    assert_same_ranking(loaded.store.lexical("what is the", 10), fts_only(loaded, "what is the", 10))


def test_an_unreadable_index_is_ignored(loaded: Engine, settings):
    loaded.reindex()
    live = settings.lexical_dir / (settings.lexical_dir / "CURRENT").read_text()
    (live / "docs.npy").write_bytes(b"not numpy")
    with Engine(settings, embedder=loaded.embedder) as again:
        again.vectors  # noqa: B018
        assert again.store.impacts is None
        assert again.store.lexical("court judge ruling", 5) == fts_only(loaded, "court judge ruling", 5)


def test_ingest_builds_the_index_once_enough_new_passages_wait(loaded: Engine, monkeypatch):
    import index.engine

    assert loaded.store.impacts is None  # 30 articles: FTS5 alone is fast enough
    monkeypatch.setattr(index.engine, "needs_build", lambda index, tail: needs_build(index, tail, minimum=1))
    loaded.ingest_items([draft_of(bundled_articles()[40])])
    assert loaded.store.impacts is not None
    assert loaded.store.impacts.max_id == int(loaded.store.chunk_ids().max())


def test_build_threshold():
    class Covered:
        size = 100_000

    assert not needs_build(None, 10)
    assert needs_build(None, 5000)
    assert not needs_build(Covered(), 5000)  # 5% new: FTS5 handles the tail
    assert needs_build(Covered(), 10_000)


def without_impacts(engine: Engine, call):
    impacts, engine.store.impacts = engine.store.impacts, None
    try:
        return call()
    finally:
        engine.store.impacts = impacts


def test_passage_facts_and_filter_checks_match_sqlite(loaded: Engine):
    store = loaded.store
    loaded.reindex()
    covered = store.impacts.max_id
    loaded.ingest_items([draft_of(bundled_articles()[40])])  # some passages after the build
    removed = loaded.store.articles()[5]
    gone = [c.id for c in store.chunks_of(removed.id)]
    loaded.remove(removed.id)
    ids = list(range(1, int(store.chunk_ids().max()) + 5))  # every id: live, removed, unknown, newer
    assert max(ids) > covered and gone
    facts = store.passage_facts(ids)
    assert facts == without_impacts(loaded, lambda: store.passage_facts(ids))
    assert not set(gone) & set(facts)
    outlet = store.sources()[0]["source"]
    for filters in [Filters(sources=(outlet.lower(),)), Filters(since="2023-11-01", until="2023-12-31")]:
        expected = set(without_impacts(loaded, lambda f=filters: store.allowed_chunk_ids(f)).tolist())
        assert store.among(ids, filters) == expected
        assert without_impacts(loaded, lambda f=filters: store.among(ids, f)) == expected


def test_counts_for_answer_weights_match_fts5(loaded: Engine):
    store = loaded.store
    loaded.reindex()
    loaded.ingest_items([draft_of(bundled_articles()[40])])  # a tail the impact index does not cover
    for text in ["court", "judge ruling", "Trump", "the", "zzzunknownword", "rates rate"]:
        assert store.document_frequency(text) == without_impacts(
            loaded, lambda t=text: store.document_frequency(t)
        )
    assert store.document_frequency("court") > 0
    assert store.passage_count() == without_impacts(loaded, store.passage_count) == len(store.chunk_ids())


def test_reindex_rebuilds_the_impact_index_only_when_passages_changed(loaded: Engine, settings):
    loaded.reindex()
    first = (settings.lexical_dir / "CURRENT").read_text()
    loaded.reindex()  # nothing changed: the same version stays live
    assert (settings.lexical_dir / "CURRENT").read_text() == first
    loaded.remove(loaded.store.articles()[0].id)
    loaded.reindex()
    assert (settings.lexical_dir / "CURRENT").read_text() != first
    assert loaded.store.impacts.alive.all() and loaded.store.impacts.size == len(loaded.store.chunk_ids())
    current = (settings.lexical_dir / "CURRENT").read_text()
    with Engine(settings, embedder=loaded.embedder) as fresh:  # `newsbot reindex` in a new process
        fresh.reindex()
        assert fresh.store.impacts is not None
    assert (settings.lexical_dir / "CURRENT").read_text() == current


@pytest.mark.parametrize("positives", [5, 150, 5000, 100_000])
def test_best_scores_are_exactly_those_of_a_full_sort(positives):
    from index.retrieval.lexical import _best

    rng = np.random.default_rng(positives)
    scores = np.zeros(100_000, dtype=np.float32)
    where = rng.choice(len(scores), positives, replace=False)
    scores[where] = rng.integers(1, 50, positives).astype(np.float32)  # many ties
    for limit in (1, 10, 100):
        got = _best(scores, limit)
        expected = np.sort(scores[scores > 0])[::-1][:limit]
        assert np.array_equal(np.sort(scores[got])[::-1][: len(expected)], expected)
        assert (scores[got] > 0).all() and len(got) >= min(limit, positives)


def synthetic_postings(seed: int):
    """Passages with gappy chunk ids, and FTS5-like instance rows ordered by (term, passage): each
    row one occurrence, weighted by its column (sums of these weights are exact in float32)."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(np.arange(1, 10_000), 60, replace=False))
    lengths = rng.integers(5, 400, len(ids)).astype(np.float64)
    vocabulary = sorted({"".join(rng.choice(list("abcdefg"), rng.integers(1, 5))) for _ in range(40)})
    rows = []
    for term in vocabulary:  # some terms in more than half the passages (idf floored)
        for at in np.sort(rng.choice(len(ids), rng.integers(1, len(ids) + 1), replace=False)):
            weights = rng.choice([2.0, 1.5, 1.0], rng.integers(1, 6))  # title, outlet, text/date
            rows += [(term, int(ids[at]), float(w)) for w in weights]
    return ids, lengths, rows


def corpus_of(ids, lengths, rows, cuts) -> Corpus:
    bounds = [0, *cuts, len(rows)]
    batches = [rows[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return Corpus(
        chunk_ids=ids,
        lengths=lengths,
        published=np.zeros(len(ids), "S10"),
        sources=np.full(len(ids), -1, np.int32),
        source_names=[],
        postings=(
            ([t for t, _, _ in b], np.array([c for _, c, _ in b]), np.array([w for _, _, w in b], np.float32))
            for b in batches
        ),
        skipped=frozenset(),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_build_gives_the_straightforward_arrays_however_the_postings_are_batched(seed):
    ids, lengths, rows = synthetic_postings(seed)
    # the straightforward computation: one column-weighted count per (term, passage), then the formula
    f: dict[tuple[str, int], float] = {}
    for term, chunk_id, weight in rows:
        f[term, chunk_id] = f.get((term, chunk_id), 0.0) + weight
    terms = list(dict.fromkeys(term for term, _ in f))
    df = {term: sum(1 for t, _ in f if t == term) for term in terms}
    docs = np.searchsorted(ids, [chunk_id for _, chunk_id in f]).astype(np.int32)
    counts = np.array(list(f.values()), np.float32)
    dfs = np.array([df[term] for term, _ in f], np.float64)
    idf = np.log((len(ids) - dfs + 0.5) / (dfs + 0.5))
    idf[idf <= 0] = 1e-6
    norm = (K1 * (1 - B + B * lengths / (lengths.sum() / len(ids)))).astype(np.float32)
    impacts = (idf * counts * (K1 + 1) / (counts + norm[docs])).astype(np.float16)
    indptr = np.cumsum([0] + [df[term] for term in terms])
    assert len(rows) > 2 * len(f) > 0  # many pairs of several rows, to be split between batches

    rng = np.random.default_rng(seed)
    for cuts in [
        [],  # one batch
        range(1, len(rows)),  # a row per batch: every pair split, some batches only continue a pair
        np.unique(rng.integers(1, len(rows), 40)).tolist(),
    ]:
        seen: list[int] = []
        index = ImpactIndex.build(corpus_of(ids, lengths, rows, list(cuts)), seen.append)
        assert list(index.term_ids) == terms
        assert index.indptr.dtype == np.int64 and np.array_equal(index.indptr, indptr)
        assert index.docs.dtype == np.int32 and np.array_equal(index.docs, docs)
        assert index.impacts.dtype == np.float16 and np.array_equal(index.impacts, impacts)
        assert seen[-1] == len(rows) and len(seen) == len(cuts) + 1


@pytest.mark.parametrize("alone", [False, True])
def test_build_refuses_postings_not_grouped_by_term(alone):
    ids, lengths, rows = synthetic_postings(0)
    rows = [*rows, rows[0]]  # the first term comes back after the others (in a batch of its own or not)
    with pytest.raises(ValueError, match="not grouped by term"):
        ImpactIndex.build(corpus_of(ids, lengths, rows, [len(rows) - 1] if alone else []))


def test_the_vocabulary_is_saved_apart_and_read_back_in_slices(loaded: Engine, settings):
    """Not one JSON list (parsing it holds the GIL in one call): a file read a slice at a time."""
    from index.retrieval.lexical import _read_terms
    from index.storage.versions import current_version

    loaded.reindex()
    live = current_version(settings.lexical_dir)
    assert "terms" not in json.loads((live / "meta.json").read_text())
    terms = list(loaded.store.impacts.term_ids)
    assert len(terms) > 100
    assert _read_terms(live / "terms.txt", piece=7) == terms  # slices that cut terms in two


def test_a_version_saved_with_its_terms_in_meta_still_loads(loaded: Engine, settings):
    from index.retrieval.lexical import ImpactIndex
    from index.storage.versions import current_version

    loaded.reindex()
    live = current_version(settings.lexical_dir)
    meta = json.loads((live / "meta.json").read_text())
    terms = list(loaded.store.impacts.term_ids)
    (live / "meta.json").write_text(json.dumps({**meta, "terms": terms}))
    (live / "terms.txt").unlink()
    again = ImpactIndex.load(settings.lexical_dir)
    assert again is not None and list(again.term_ids) == terms
