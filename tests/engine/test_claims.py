"""News per server: who brought each article (claims), what each viewer sees, who may remove what.
Real SQLite and FAISS with the HashEmbedder."""

import pytest

from index.engine import Engine, NotYours
from index.models import ArticleDraft
from index.scopes import OPERATOR, guild_scope, parse_scope

A, B = guild_scope(1), guild_scope(2)

BUDGET = (
    "The city council approved a new budget on Tuesday after a long debate. "
    "The plan raises spending on schools and public transport by ten percent. "
    "Critics said the council ignored rising housing costs. "
    "The mayor promised a separate housing plan before the summer. "
    "Opposition members voted against the budget as a whole."
)
# The same story as another outlet wrote it (a near-duplicate: one story, two outlets).
BUDGET_COPY = BUDGET.replace("Opposition members voted against the budget as a whole.", "The vote was 7-4.")
FLOOD = (
    "Heavy rain flooded the river valley overnight and hundreds of homes were evacuated. "
    "Rescue teams used boats to reach villages cut off by the water. "
    "The weather service warned that more storms would follow this week. "
    "Farmers said the harvest in the lowlands was lost."
)


def draft(body, url, source, **kw) -> ArticleDraft:
    return ArticleDraft(body=body, origin=url, url=url, source=source, published="2026-11-30", **kw)


def ids(hits) -> set[str]:
    return {h.article_id for h in hits}


def test_scopes_are_validated_naming_the_bad_one():
    assert parse_scope("guild:42") == "guild:42" and parse_scope(OPERATOR) == OPERATOR
    for bad in ("guild:", "guild:x", "Operator", "guild:-1", ""):
        with pytest.raises(ValueError, match="not a scope"):
            parse_scope(bad)
    with pytest.raises(ValueError, match="not a guild id"):
        guild_scope(0)


def test_ingest_records_claims_and_stored(engine: Engine):
    report = engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A, via="feed:3")
    (stored,) = report.stored
    assert (stored.kind, stored.story_id) == ("added", stored.article_id)
    assert engine.store.claims_of(stored.article_id) == [(A, "feed:3")]
    assert "stored" not in report.to_json()
    with pytest.raises(ValueError, match="not a scope"):
        engine.ingest_items([], scope="guild:abc")


def test_each_viewer_sees_the_operators_news_and_its_own(engine: Engine):
    engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")])
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A)
    for viewer, expected in ((None, 2), (OPERATOR, 1), (A, 2), (B, 1)):
        hits = engine.search("homes evacuated flood river", viewer=viewer)
        assert ("A News" in {h.source for h in hits}) == (expected == 2), viewer
        assert len(engine.articles(viewer=viewer)) == expected
        assert ({s["source"] for s in engine.sources(viewer=viewer)} >= {"A News"}) == (expected == 2)
    flood = engine.articles(viewer=A)[0] if engine.articles(viewer=A)[0].source == "A News" else None
    flood = flood or engine.articles(viewer=A)[1]
    assert engine.article(flood.id, viewer=B) is None and engine.article(flood.id, viewer=A) == flood


def test_a_story_carried_by_a_server_and_the_operator_is_one_story(engine: Engine):
    engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")])
    report = engine.ingest_items([draft(BUDGET_COPY, "https://a.example/budget", "A News")], scope=A)
    (copy,) = report.stored
    story = engine.articles()[0].id
    assert (copy.kind, copy.story_id) == ("duplicate", story)
    assert {s for s, _ in engine.store.claims_of(story)} == {OPERATOR, A}
    assert engine.store.counts()["articles"] == 1
    # Server A is told its outlet carried the story too; server B and DMs are not told what A brought.
    hit_a = engine.search("council budget schools", viewer=A)[0]
    hit_b = engine.search("council budget schools", viewer=B)[0]
    assert hit_a.article_id == hit_b.article_id == story
    assert hit_a.also_reported_by == ("A News",) and hit_b.also_reported_by == ()
    assert engine.outlets_of(story, viewer=OPERATOR) == [] and engine.copies_of(story, viewer=B) == []
    assert [c.source for c in engine.copies_of(story, viewer=A)] == ["A News"]
    # Released by A, the story stays (the operator's) and A's copy goes.
    assert engine.release([copy.article_id], scope=A) == [copy.article_id]
    assert engine.store.claims_of(story) == [(OPERATOR, "manual")]
    assert engine.store.counts() == {
        "articles": 1,
        "duplicates": 0,
        "chunks": engine.store.counts()["chunks"],
    }


def test_release_removes_what_no_one_else_brought(engine: Engine):
    (flood,) = engine.ingest_items(
        [draft(FLOOD, "https://a.example/flood", "A News")], scope=A, via="feed:1"
    ).stored
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A, via="manual")
    assert engine.release([flood.article_id], scope=A, via="feed:1") == []  # still brought by hand
    assert engine.release([flood.article_id], scope=A, via="manual") == [flood.article_id]
    assert engine.article(flood.article_id) is None
    assert engine.search("homes evacuated flood river") == []


def test_a_server_removes_only_what_it_brought(engine: Engine):
    (budget,) = engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")]).stored
    (flood,) = engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A).stored
    assert engine.remove(flood.article_id, scope=B) is False  # B does not even see it
    with pytest.raises(NotYours, match="operator"):
        engine.remove(budget.article_id, scope=A)
    assert engine.claimed(A) == [(flood.article_id, engine.article(flood.article_id).title)]
    assert engine.claimed(B) == []
    assert engine.remove(flood.article_id, scope=A) is True
    assert engine.article(flood.article_id) is None and engine.article(budget.article_id) is not None
    assert engine.remove(budget.article_id) is True  # the operator removes anything


def test_a_server_removing_a_story_others_carry_only_drops_its_own_claim(engine: Engine):
    (flood,) = engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A).stored
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=B)
    assert engine.remove(flood.article_id, scope=A) is True
    assert engine.article(flood.article_id, viewer=A) is None
    assert engine.article(flood.article_id, viewer=B) is not None
    assert engine.search("homes evacuated flood river", viewer=A) == []
    assert engine.search("homes evacuated flood river", viewer=B)


def test_operator_removal_hands_the_story_and_its_claims_to_a_copy(engine: Engine):
    (main,) = engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")]).stored
    (copy,) = engine.ingest_items([draft(BUDGET_COPY, "https://a.example/budget", "A News")], scope=A).stored
    assert engine.remove(main.article_id) is True
    assert {s for s, _ in engine.store.claims_of(copy.article_id)} == {OPERATOR, A}
    assert ids(engine.search("council budget schools", viewer=B)) == {copy.article_id}


def test_a_new_version_keeps_the_claims_of_the_old(engine: Engine):
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A)
    (new,) = engine.ingest_items(
        [draft(FLOOD + " The river peaked at noon.", "https://a.example/flood", "A News")], scope=B
    ).stored
    assert new.kind == "updated"
    assert {s for s, _ in engine.store.claims_of(new.article_id)} == {A, B}


def test_viewer_filters_combine_with_dates_and_outlets(engine: Engine):
    engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")])
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A)
    assert engine.search("flood", sources=["A News"], viewer=B) == []
    assert {h.source for h in engine.search("flood", since="2026-11-01", viewer=B)} == {"Operator Times"}
    assert engine.search("flood", sources=["A News"], viewer=A)
    assert engine.articles(sources=["A News"], viewer=OPERATOR) == []


def test_hidden_passages_stay_hidden_with_the_keyword_index_built(engine: Engine):
    engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")])
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A)
    engine.reindex()  # searches now go through the BM25 impact index
    assert engine.store.impacts is not None
    assert {h.source for h in engine.search("homes evacuated flood river", viewer=B)} <= {"Operator Times"}
    assert "A News" in {h.source for h in engine.search("homes evacuated flood river", viewer=A)}


def test_answers_read_through_the_viewer(engine: Engine):
    from index.answers import answer

    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A)
    seen = answer(engine, "How many homes were evacuated in the flood?", viewer=A)
    unseen = answer(engine, "How many homes were evacuated in the flood?", viewer=B)
    assert seen.citations and not unseen.citations


def test_only_the_servers_claims_make_viewers_read_again(engine: Engine):
    """`claims_version` (triggers of m009) moves with the servers' news, not with the operator's."""
    version = engine.store.claims_version
    start = version()
    engine.ingest_items([draft(BUDGET, "https://op.example/budget", "Operator Times")])
    assert version() == start  # the operator's ingest: nothing a viewer may not see changed
    (flood,) = engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")], scope=A).stored
    assert version() > start
    hidden = engine.store.hidden_chunks(B)
    assert len(hidden) == len(engine.store.chunks_of(flood.article_id))
    before = version()
    engine.ingest_items([draft(FLOOD, "https://a.example/flood", "A News")])  # the operator's too now
    assert version() > before and len(engine.store.hidden_chunks(B)) == 0
