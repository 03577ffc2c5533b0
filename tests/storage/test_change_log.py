"""The change log (migration m008): every passage added or removed, in the transaction that did it."""

from __future__ import annotations

import pytest

from index.storage.records import Conflict
from tests.conftest import bundled_articles, draft_of


def test_passages_added_and_removed_are_logged_in_order_and_read_in_pages(engine):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:3])
    store = engine.store
    ids = sorted(store.chunk_ids().tolist())
    whole = store.changes_after(0)
    assert [i for i, _ in whole.added] == ids and len(whole.removed) == 0 and not whole.more
    assert whole.seq == store.change_seq() == len(ids)

    first, rest = store.changes_after(0, limit=2), store.changes_after(2, limit=len(ids))
    assert first.more and first.seq == 2 and [i for i, _ in first.added] == ids[:2]
    assert [i for i, _ in rest.added] == ids[2:] and not rest.more

    gone = store.articles()[0].id
    removed = [c.id for c in store.chunks_of(gone)]
    assert engine.remove(gone)
    after = store.changes_after(whole.seq)
    assert sorted(after.removed.tolist()) == sorted(removed) and after.added == []
    # read from the start, a passage since removed is reported removed, not added
    assert set(store.changes_after(0).removed.tolist()) == set(removed)


def test_a_write_that_fails_logs_nothing(engine):
    engine.ingest_items([draft_of(bundled_articles()[0])])
    store = engine.store
    seq = store.change_seq()
    article = store.articles()[0]
    with pytest.raises(Conflict):  # the same id again: refused inside the transaction
        store.add_article(
            article, canonical_url=None, content_hash="x", origin="test", chunks=[], vectors={}, minhash=None
        )
    assert store.change_seq() == seq


def test_a_reindex_prunes_the_log_up_to_the_previous_reindex(engine):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:2])
    engine.reindex()
    first = engine.store.change_seq()
    assert engine.store.changes_after(0) is not None  # nothing pruned yet
    engine.ingest_items(draft_of(r) for r in bundled_articles()[2:4])
    engine.reindex()
    assert engine.store.changes_after(0) is None  # behind the pruned start: a full comparison
    assert engine.store.changes_after(first) is not None
