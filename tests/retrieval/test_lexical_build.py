"""The keyword (impact) index is rebuilt in a process of its own (index/retrieval/lexical_build.py): an
ingest's rebuild never holds the caller's interpreter, and a build that dies harms nothing."""

import json
import logging
import os
import sys

import pytest

import index.engine
from index.engine import Engine
from index.retrieval.lexical import needs_build
from index.storage.versions import current_version
from tests.conftest import bundled_articles, draft_of


@pytest.fixture
def loaded(engine: Engine, monkeypatch) -> Engine:
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:16])
    # every ingest rebuilds the keyword index (the real threshold is 5,000 waiting passages)
    monkeypatch.setattr(
        index.engine, "needs_build", lambda index, tail: needs_build(index, tail, minimum=1, share=0)
    )
    return engine


def saved_meta(engine: Engine) -> dict:
    return json.loads((current_version(engine.settings.lexical_dir) / "meta.json").read_text())


def newest_chunk(engine: Engine) -> int:
    return int(engine.store.chunk_ids().max())


def test_an_ingest_rebuilds_the_keyword_index_in_another_process(loaded: Engine):
    assert loaded.store.impacts is None
    stages = []
    loaded.ingest_items([draft_of(bundled_articles()[40])], progress=lambda stage, *_: stages.append(stage))
    built_by = saved_meta(loaded)["pid"]
    assert built_by != os.getpid()  # not this process's thread: the build held another interpreter
    assert "lexical" in stages  # the child's progress reaches the caller
    assert loaded.store.impacts is not None  # and the saved index is served
    assert loaded.store.impacts.max_id == newest_chunk(loaded)
    assert loaded.store.impacts.seq == loaded.store.change_seq()


def test_a_reindex_rebuilds_it_in_another_process(loaded: Engine):
    loaded.reindex()
    assert saved_meta(loaded)["pid"] != os.getpid()
    assert loaded.lexical.is_current()


@pytest.fixture
def killed_python(tmp_path) -> str:
    """An interpreter killed (SIGKILL) as soon as it starts, as a build killed by an operator or the
    kernel's out-of-memory killer."""
    killed = tmp_path / "python-killed"
    killed.write_text("#!/bin/sh\nkill -9 $$\n")
    killed.chmod(0o755)
    return str(killed)


def test_a_killed_build_leaves_search_working_and_a_later_build_succeeds(
    loaded: Engine, killed_python, monkeypatch, caplog
):
    loaded.reindex()  # a first build
    served, version = loaded.store.impacts, current_version(loaded.settings.lexical_dir)
    assert served is not None

    records = bundled_articles()[40:42]
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING):
        patch.setattr(sys, "executable", killed_python)
        loaded.ingest_items([draft_of(records[0])])  # its rebuild dies
    assert "keyword index was not rebuilt" in caplog.text
    assert current_version(loaded.settings.lexical_dir) == version  # the saved one stays
    assert loaded.store.impacts is served  # and is still served; FTS5 ranks the new passages
    assert served.max_id < newest_chunk(loaded)
    assert loaded.search(records[0]["title"], k=1)[0].title == records[0]["title"]

    loaded.ingest_items([draft_of(records[1])])  # a later build succeeds
    assert loaded.store.impacts is not served
    assert loaded.store.impacts.max_id == newest_chunk(loaded)
    assert saved_meta(loaded)["pid"] != os.getpid()
    assert loaded.search(records[0]["title"], k=1)[0].title == records[0]["title"]
