"""Ingest on real SQLite and FAISS with the deterministic HashEmbedder."""

import numpy as np
import pytest

from index.engine import Engine
from index.models import ArticleDraft, Skipped
from index.retrieval.vectors import VectorIndex
from tests.conftest import bundled_articles, draft_of

STORY = (
    "The city council approved a new budget on Tuesday after a long debate. "
    "The plan raises spending on schools and public transport by ten percent. "
    "Critics said the council ignored rising housing costs. "
    "The mayor promised a separate housing plan before the summer. "
    "Opposition members voted against the budget as a whole."
)


def draft(body=STORY, **kw) -> ArticleDraft:
    return ArticleDraft(body=body, origin=kw.pop("origin", "test"), **kw)


def test_articles_get_metadata_passages_and_vectors(engine: Engine):
    report = engine.ingest_items(
        [draft(url="https://news.example/budget", source="Daily", published="2024-05-02")]
    )
    assert report.to_json() == {"added": 1, "updated": 0, "duplicates": 0, "skipped": []}
    (article,) = engine.articles()
    assert (article.source, article.published, article.url) == (
        "Daily",
        "2024-05-02",
        "https://news.example/budget",
    )
    assert article.title == "The city council approved a new budget on Tuesday after a long debate."
    assert article.title_derived and article.ingested_at
    chunks = engine.store.chunks_of(article.id)
    assert chunks and all(c.text == article.body[c.start : c.end] for c in chunks)
    assert sorted(engine.vectors.ids().tolist()) == [c.id for c in chunks]


def test_unknown_date_stays_unknown(engine: Engine):
    engine.ingest_items([draft()])
    assert engine.articles()[0].published is None


def test_exact_duplicates_by_text_or_url_are_stored_once(engine: Engine):
    engine.ingest_items([draft(url="https://a.example/x")])
    report = engine.ingest_items(
        [
            draft(body=STORY.upper().replace(".", " . "), origin="same text, other case and spacing"),
            draft(url="https://a.example/x/?utm_source=feed", origin="same url, tracking"),
        ]
    )
    assert (report.added, report.duplicates) == (0, 2)
    assert engine.store.counts()["articles"] == 1


def test_a_changed_version_of_a_stored_url_replaces_the_old_everywhere(engine: Engine):
    engine.ingest_items([draft(url="https://a.example/x", title="Budget passes")])
    old_id = engine.articles()[0].id
    old_chunks = {c.id for c in engine.store.chunks_of(old_id)}
    new_body = STORY.replace("ten percent", "twelve percent") + " A correction was appended later today."
    report = engine.ingest_items([draft(body=new_body, url="https://a.example/x", title="Budget passes")])
    assert (report.added, report.updated) == (0, 1)
    (article,) = engine.articles()
    assert article.id == old_id and "twelve percent" in article.body
    new_chunks = {c.id for c in engine.store.chunks_of(old_id)}
    assert not old_chunks & new_chunks
    assert set(engine.vectors.ids().tolist()) == new_chunks
    excerpts = [h.excerpt for h in engine.search("spending percent", k=5)]
    assert any("twelve percent" in e for e in excerpts)
    assert not any("ten percent" in e for e in excerpts)


def test_near_duplicate_wire_story_is_one_story_with_several_outlets(engine: Engine):
    engine.ingest_items([draft(url="https://a.example/1", source="Outlet A")])
    republished = "By Wire Staff. " + STORY.replace("Tuesday", "Tuesday evening")
    report = engine.ingest_items([draft(body=republished, url="https://b.example/2", source="Outlet B")])
    assert report.duplicates == 1 and report.added == 0
    assert engine.store.counts() == {
        "articles": 1,
        "duplicates": 1,
        "chunks": len(engine.store.chunks_of(engine.articles()[0].id)),
    }
    hit = engine.search("council budget schools", k=1)[0]
    assert hit.source == "Outlet A" and hit.also_reported_by == ("Outlet B",)


def test_a_different_article_is_not_a_near_duplicate(engine: Engine):
    engine.ingest_items([draft(url="https://a.example/1")])
    other = "The football club signed a new striker on Friday. " * 3 + "Fans celebrated outside the stadium."
    report = engine.ingest_items([draft(body=other, url="https://a.example/2")])
    assert report.added == 1


def test_removing_a_story_promotes_another_outlets_copy(engine: Engine):
    engine.ingest_items([draft(url="https://a.example/1", source="Outlet A")])
    engine.ingest_items([draft(body="By Wire Staff. " + STORY, url="https://b.example/2", source="Outlet B")])
    main_id = engine.articles()[0].id
    assert engine.remove(main_id)
    (article,) = engine.articles()
    assert article.source == "Outlet B" and article.duplicate_of is None
    chunk_ids = {c.id for c in engine.store.chunks_of(article.id)}
    assert chunk_ids and set(engine.vectors.ids().tolist()) == chunk_ids
    assert engine.search("council budget", k=3)[0].source == "Outlet B"
    assert not engine.remove("no-such-id")


def test_bad_items_are_reported_and_the_rest_goes_in(engine: Engine):
    items = [draft(body="   "), Skipped("feed.xml", "not a feed: no entries found"), draft()]
    report = engine.ingest_items(items)
    assert report.added == 1
    assert [s.source for s in report.skipped] == ["test", "feed.xml"]
    assert "no article text" in report.skipped[0].reason


def test_a_failing_article_does_not_stop_the_batch(engine: Engine, monkeypatch):
    real = engine.passager.chunk

    def chunk(title, body):
        if "explode" in body:
            raise ValueError("tokenizer exploded")
        return real(title, body)

    monkeypatch.setattr(engine.passager, "chunk", chunk)
    report = engine.ingest_items([draft(body="This article will explode the tokenizer today."), draft()])
    assert report.added == 1 and "tokenizer exploded" in report.skipped[0].reason
    assert engine.store.counts()["articles"] == 1


def test_ingest_files_from_a_folder(engine: Engine, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sample.txt").write_text(" date 2025-03-28 " + STORY)
    (folder / "sub" / "empty.txt").write_text("")
    report = engine.ingest([str(folder)])
    assert report.added == 1 and len(report.skipped) == 1
    article = engine.articles()[0]
    assert article.published == "2025-03-28" and article.body.startswith("The city council")


def test_reindex_of_an_unchanged_corpus_embeds_nothing(engine: Engine, hash_embedder):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:5])
    before = hash_embedder.texts_embedded
    report = engine.reindex()
    assert report.embedded == 0 and report.reused == report.chunks > 0
    assert hash_embedder.texts_embedded == before
    full = engine.reindex(full=True)
    assert full.embedded == full.chunks
    assert engine.vectors.count == full.chunks


def test_index_is_saved_with_metadata_and_survives_a_restart(settings, hash_embedder):
    with Engine(settings, embedder=hash_embedder) as first:
        first.ingest_items([draft()])
        count = first.vectors.count
    stats = Engine(settings, embedder=hash_embedder).stats()
    assert stats["vectors"] == count and stats["model"] == "hash-embedder" and stats["dimension"] == 64
    assert stats["index_built_at"]


def test_index_of_another_model_is_refused_with_a_reindex_hint(settings, hash_embedder):
    from index.retrieval.vectors import IndexMismatch
    from tests.helpers.embedders import HashEmbedder

    with Engine(settings, embedder=hash_embedder) as first:
        first.ingest_items([draft()])
    other = Engine(settings, embedder=HashEmbedder(name="other-model"))
    with pytest.raises(IndexMismatch, match="newsbot reindex"):
        other.search("budget")
    other._vectors = None
    report = other.reindex()
    assert report.embedded > 0 and other.search("budget")


def test_a_crash_between_sqlite_and_the_index_is_repaired_on_open(settings, hash_embedder):
    with Engine(settings, embedder=hash_embedder) as first:
        first.ingest_items([draft(url="https://a.example/1")])
        saved = first.vectors.count
        # Simulate a crash after SQLite committed but before the index was saved.
        original = VectorIndex.save
        VectorIndex.save = lambda self, d: None
        try:
            other = "A quite different article about football transfers and stadium plans in the city."
            first.ingest_items([draft(body=other, url="https://a.example/2")])
        finally:
            VectorIndex.save = original
    with Engine(settings, embedder=hash_embedder) as second:
        chunk_ids = sorted(second.store.chunk_ids().tolist())
        assert second.vectors.count > saved
        assert sorted(second.vectors.ids().tolist()) == chunk_ids


def test_vectors_are_normalised_and_keyed_by_chunk_id(engine: Engine):
    engine.ingest_items([draft()])
    chunk = engine.store.chunks_of(engine.articles()[0].id)[0]
    stored = engine.store.vectors(
        [engine.store.db.execute("SELECT embed_key FROM chunks WHERE id=?", [chunk.id]).fetchone()[0]]
    )
    (vector,) = stored.values()
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)
    assert engine.vectors.search(vector, 1)[0][0] == chunk.id


def test_full_reindex_after_a_model_change_rebuilds_with_the_new_model(settings, hash_embedder):
    from tests.helpers.embedders import HashEmbedder

    with Engine(settings, embedder=hash_embedder) as first:
        first.ingest_items([draft()])
    with Engine(settings, embedder=HashEmbedder(name="other-model")) as other:
        report = other.reindex(full=True)
        assert report.embedded == report.chunks > 0
        assert other.stats()["model"] == "other-model"
        assert other.search("council budget", k=1)


def test_outlet_list_follows_every_write(engine: Engine):
    assert engine.store.sources() == []
    engine.ingest_items([draft(url="https://a.example/1", source="Outlet A")])
    assert [s["source"] for s in engine.store.sources()] == ["Outlet A"]
    other = "The football club signed a new striker on Friday. " * 3 + "Fans celebrated outside the stadium."
    engine.ingest_items([draft(body=other, url="https://b.example/2", source="Outlet B")])
    assert {s["source"] for s in engine.store.sources()} == {"Outlet A", "Outlet B"}
    engine.remove(engine.articles(sources=["Outlet A"])[0].id)
    assert [s["source"] for s in engine.store.sources()] == ["Outlet B"]
