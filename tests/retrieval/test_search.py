"""Hybrid search over the bundled real news with the real model."""

import pytest

from index.engine import Engine
from index.retrieval import search as search_module
from index.retrieval.search import FusionWeights, _pick, hybrid_search
from tests.conftest import bundled_articles, draft_of

# Questions phrased the way a member would ask, with the article that answers each (by its URL slug).
QUESTIONS = [
    ("who testified first for the government against the former FTX boss?", "sam-bankman-fried-lawyers"),
    ("is the Ozempic weight loss drug bad for digestion?", "ozempic"),
    ("which jellyfish can learn things even though they have no brain", "jellyfish"),
    ("did the judge find that Trump inflated the value of his properties?", "trump"),
    ("what did the EU say about Amazon buying the Roomba maker", "irobot"),
    ("new treatments for Alzheimer's disease in Britain", "alzheimer"),
]


@pytest.mark.parametrize(("question", "slug"), QUESTIONS)
def test_questions_find_the_right_article_in_the_top_three(news_engine: Engine, question, slug):
    hits = news_engine.search(question, k=3)
    assert any(slug in (h.url or "").lower() for h in hits), [h.url for h in hits]


def test_excerpts_are_verbatim_passages_of_their_article(news_engine: Engine):
    for hit in news_engine.search("FTX trial witnesses", k=10):
        body = news_engine.article(hit.article_id).body
        assert body[hit.start : hit.end] == hit.excerpt


def test_one_article_cannot_crowd_out_the_rest(news_engine: Engine):
    hits = news_engine.search("Sam Bankman-Fried FTX trial", k=10)
    per_article = {}
    for hit in hits:
        per_article[hit.article_id] = per_article.get(hit.article_id, 0) + 1
    assert max(per_article.values()) <= news_engine.settings.max_passages_per_article
    assert len(per_article) >= 3


def test_date_range_filter(news_engine: Engine):
    hits = news_engine.search("football", k=10, since="2023-12-01", until="2023-12-15")
    assert hits
    assert all("2023-12-01" <= h.published <= "2023-12-15" for h in hits)
    unfiltered = news_engine.search("football", k=10)
    assert any(not ("2023-12-01" <= h.published <= "2023-12-15") for h in unfiltered)


def test_outlet_filter_is_case_insensitive(news_engine: Engine):
    hits = news_engine.search("artificial intelligence", k=10, sources=["techcrunch"])
    assert hits and {h.source for h in hits} == {"TechCrunch"}


def test_user_text_is_never_fts_syntax(news_engine: Engine):
    for query in ['"unbalanced', "NEAR(a b", "title:secret OR *", "AND OR NOT", "-", ""]:
        news_engine.search(query, k=3)  # must not raise


def test_search_on_an_empty_store_returns_nothing(engine: Engine):
    assert engine.search("anything at all") == []


def test_a_passage_removed_while_a_question_runs_is_left_out(engine: Engine, monkeypatch):
    """A full reindex re-chunks articles while questions are answered: a candidate ranked a moment ago
    may be gone when its text is fetched. The question is still answered, without it."""
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:8])
    store = engine.store
    fetch, gone = store.passages, []

    def passages_after_a_concurrent_delete(chunk_ids, viewer=None):
        if not gone and chunk_ids:
            gone.append(chunk_ids[0])
            with store.lock, store.db.conn:
                store.db.execute("DELETE FROM chunks WHERE id = ?", [chunk_ids[0]])
        return fetch(chunk_ids, viewer)

    monkeypatch.setattr(store, "passages", passages_after_a_concurrent_delete)
    hits = engine.search("Sam Bankman-Fried FTX trial", k=10)
    assert gone, "the search should have fetched candidate passages"
    assert hits and gone[0] not in {h.chunk_id for h in hits}


def test_search_reads_the_articles_of_the_passages_it_returns_only(engine: Engine, monkeypatch):
    """Ranking and picking read passages alone; each article row (two more page reads) only for a hit."""
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:12])
    store, asked = engine.store, []
    fetch = store.passages
    monkeypatch.setattr(
        store, "passages", lambda ids, viewer=None: asked.append(list(ids)) or fetch(ids, viewer)
    )
    hits = engine.search("court trial judge market company", k=5)
    assert len(hits) == 5
    assert [sorted(ids) for ids in asked] == [sorted(h.chunk_id for h in hits)]
    for hit in hits:
        article = engine.article(hit.article_id)
        assert (hit.title, hit.source, hit.url) == (article.title, article.source, article.url)


def test_picking_past_the_rescored_passages_fetches_the_rest_as_it_goes(engine: Engine, monkeypatch):
    """Only the best few candidates are fetched for sentence rescoring; with one passage per article
    the picking walks past them, fetching more, and leaves out one removed meanwhile."""
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:12])
    store = engine.store
    fetch, calls, gone = store.passage_texts, [], []

    def passages_with_a_removal_when_picking_fetches(chunk_ids):
        calls.append(list(chunk_ids))
        if not gone and len(chunk_ids) > 2:  # past the two rescored: picking fetches ahead
            gone.append(chunk_ids[0])
            with store.lock, store.db.conn:
                store.db.execute("DELETE FROM chunks WHERE id = ?", [chunk_ids[0]])
        return fetch(chunk_ids)

    monkeypatch.setattr(store, "passage_texts", passages_with_a_removal_when_picking_fetches)
    weights = FusionWeights(sentence_depth=2)
    hits = hybrid_search(
        "court trial judge market company", store=store, vectors=engine.vectors, embedder=engine.embedder,
        k=6, per_article=1, weights=weights,
    )  # fmt: skip
    assert gone, "picking should have fetched more passages than the two rescored"
    rescoring = calls[: [len(c) > 2 for c in calls].index(True)]
    assert rescoring and all(len(c) <= 2 for c in rescoring)
    assert len(hits) == 6 and len({h.article_id for h in hits}) == 6
    assert gone[0] not in {h.chunk_id for h in hits}
    for hit in hits:
        assert engine.article(hit.article_id).body[hit.start : hit.end] == hit.excerpt
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_picking_caps_each_article_and_can_lower_its_next_passages():
    ranked = [(1, 1.0), (2, 0.9), (3, 0.8), (4, 0.7), (5, 0.6)]
    articles = {0: "a", 1: "a", 2: "b", 3: "a", 4: None}  # the fifth was removed since it was ranked
    assert _pick(ranked, articles.get, 4, 2, 0.0) == [(1, 1.0), (2, 0.9), (3, 0.8)]
    # each passage picked from "a" costs its next ones 0.25: 2 scores 0.65, 4 scores 0.45 then 0.2
    assert _pick(ranked, articles.get, 3, 2, 0.25) == [(1, 1.0), (3, 0.8), (2, 0.65)]
    assert _pick(ranked, articles.get, 4, 1, 0.0) == [(1, 1.0), (3, 0.8)]


class _Deferred:
    """A dense search that reports itself running (or done) until its result is asked for."""

    def __init__(self, fn, args, running: bool):
        self.fn, self.args, self.running = fn, args, running

    def done(self) -> bool:
        return not self.running

    def result(self):
        return self.fn(*self.args)


@pytest.mark.parametrize("question", ["Sam Bankman-Fried FTX trial testimony", "jellyfish learning"])
def test_passages_read_while_the_vector_search_runs_rank_as_if_read_after(
    news_engine: Engine, monkeypatch, question
):
    def search(running: bool):
        monkeypatch.setattr(search_module._DENSE, "submit", lambda fn, *a: _Deferred(fn, a, running))
        return news_engine.search(question, k=10)

    early, late = search(True), search(False)
    assert [(h.chunk_id, h.score) for h in early] == [(h.chunk_id, h.score) for h in late]
    assert len(early) == 10
