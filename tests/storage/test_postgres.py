"""The PostgreSQL store: its dialect rewrites, its migrations, and several nodes (data folders of their
own) sharing one database through the change log."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from index.config import Settings
from index.engine import Engine
from index.retrieval import follow
from index.storage import pg_migrations
from index.storage.dialect import translate
from index.storage.store import StoreUnusable
from tests.conftest import bundled_articles, draft_of
from tests.helpers.embedders import HashEmbedder


def test_the_sqlite_dialect_is_rewritten_in_one_place():
    assert translate("SELECT id FROM chunks WHERE id > ? LIMIT ?") == (
        "SELECT id FROM chunks WHERE id > %s LIMIT %s",
        False,
    )
    assert translate("INSERT OR IGNORE INTO embeddings (key, vector) VALUES (?, ?)", returning=False)[0] == (
        "INSERT INTO embeddings (key, vector) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    )
    assert translate("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")[0] == (
        "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
    )
    assert translate("SELECT 1 FROM chunks c CROSS JOIN articles a ON a.id = c.article_id")[0] == (
        "SELECT 1 FROM chunks c JOIN articles a ON a.id = c.article_id"
    )
    text, returns_id = translate("INSERT INTO chunks (article_id) VALUES (?)")
    assert text.endswith("RETURNING id") and returns_id
    assert translate("SELECT '5%' || ?")[0] == "SELECT '5%%' || %s"


def test_a_database_url_that_is_not_postgresql_is_refused_by_name():
    with pytest.raises(ValidationError, match="'mysql:' is not a PostgreSQL URL"):
        Settings(database_url="mysql://root@127.0.0.1/news", _env_file=None)


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path):
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"  # (no server on port 1)
    settings = Settings(data_dir=tmp_path, database_url=url, _env_file=None)
    with pytest.raises(StoreUnusable, match="cannot connect to PostgreSQL"):
        Engine(settings, embedder=HashEmbedder())


def test_migrations_are_named_ordered_and_applied_once(pg_url, tmp_path):
    for _ in range(2):
        Engine(Settings(data_dir=tmp_path / "data", database_url=pg_url, _env_file=None)).close()
    with psycopg.connect(pg_url) as conn:
        assert pg_migrations.applied(conn) == [name for name, _ in pg_migrations.MIGRATIONS]
        assert pg_migrations.pending(conn) == []


def node(pg_url: str, folder: Path) -> Engine:
    """A process on another machine: the same database, a data folder of its own."""
    return Engine(Settings(data_dir=folder, database_url=pg_url, _env_file=None), embedder=HashEmbedder())


def test_an_article_ingested_on_one_node_is_answered_on_another(pg_url, tmp_path):
    records = bundled_articles()[:4]
    with node(pg_url, tmp_path / "a") as writer, node(pg_url, tmp_path / "b") as reader:
        reader.search("anything")  # loaded (empty) before the write
        writer.ingest_items(draft_of(r) for r in records)
        assert reader.search(records[0]["title"], k=1)[0].title == records[0]["title"]
        assert sorted(reader.vectors.ids().tolist()) == sorted(writer.store.chunk_ids().tolist())
        word = records[1]["title"].split()[0]
        assert reader.store.lexical(word, 5) == writer.store.lexical(word, 5) != []  # each its own FTS5 copy
        gone = reader.search(records[0]["title"], k=1)[0].article_id
        assert writer.remove(gone)
        assert gone not in {h.article_id for h in reader.search(records[0]["title"], k=5)}
        assert reader.store.document_frequency(records[0]["title"]) == writer.store.document_frequency(
            records[0]["title"]
        )


def test_a_node_that_starts_again_follows_the_log_from_its_saved_index(pg_url, tmp_path, monkeypatch):
    records = bundled_articles()[:6]
    with node(pg_url, tmp_path / "a") as writer:
        with node(pg_url, tmp_path / "b") as reader:
            writer.ingest_items(draft_of(r) for r in records[:3])
            reader.search("anything")  # loads, catches up and saves its index at that position
        writer.ingest_items(draft_of(r) for r in records[3:])  # while the reader is down

        def rebuild(*_args, **_kwargs):
            raise AssertionError("a full comparison instead of following the log")

        monkeypatch.setattr(follow, "reconcile", rebuild)
        with node(pg_url, tmp_path / "b") as reader:
            assert reader.search(records[4]["title"], k=1)[0].title == records[4]["title"]
            assert sorted(reader.vectors.ids().tolist()) == sorted(writer.store.chunk_ids().tolist())


def test_a_following_node_is_woken_by_notify_and_applies_the_write(pg_url, tmp_path):
    records = bundled_articles()[:2]
    with node(pg_url, tmp_path / "a") as writer, node(pg_url, tmp_path / "b") as reader:
        reader.search("anything")
        waiter = reader.store.change_waiter()
        try:
            writer.ingest_items([draft_of(records[0])])
            assert waiter.wait(10)  # a NOTIFY on commit (the deadline only bounds a failure)
        finally:
            waiter.close()
        applied = threading.Event()
        reader.catch_up_now, original = (lambda: (original(), applied.set())), reader.catch_up_now
        reader.follow_changes(every=60)  # (no periodic pass within the test: only NOTIFY wakes it)
        writer.ingest_items([draft_of(records[1])])
        assert applied.wait(10)
        assert sorted(reader._vectors.ids().tolist()) == sorted(writer.store.chunk_ids().tolist())


def test_writes_of_two_nodes_at_once_keep_the_log_in_commit_order(pg_url, tmp_path):
    records = bundled_articles()[:12]
    with node(pg_url, tmp_path / "a") as one, node(pg_url, tmp_path / "b") as two:
        threads = [
            threading.Thread(target=lambda e=e, part=part: e.ingest_items(draft_of(r) for r in part))
            for e, part in ((one, records[::2]), (two, records[1::2]))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        logged = [r[0] for r in one.store.db.execute("SELECT chunk_id FROM changes ORDER BY seq")]
        # positions follow the passages' ids: both were handed out under the write lock, one writer's
        # transaction at a time, so no position commits before an earlier one
        assert logged == sorted(one.store.chunk_ids().tolist()) and len(logged) > 0
        assert sorted(two.vectors.ids().tolist()) == sorted(one.vectors.ids().tolist())


def test_a_store_reconnects_after_its_connection_is_cut(pg_url, tmp_path):
    with node(pg_url, tmp_path / "a") as engine:
        engine.ingest_items([draft_of(bundled_articles()[0])])
        with psycopg.connect(pg_url, autocommit=True) as admin:  # as a server restart would
            pid = engine.store.db.pg.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError):
            engine.store.counts()  # the statement that finds the connection gone fails (never retried)
        assert engine.store.counts()["articles"] == 1
        engine.ingest_items([draft_of(bundled_articles()[1])])
        assert engine.store.counts()["articles"] == 2


def test_a_data_folder_moved_to_another_database_does_not_serve_the_old_ones_passages(pg_url, tmp_path):
    """The full-text copy in a data folder belongs to one database: pointed at another, it starts over."""
    records = bundled_articles()[:2]
    with node(pg_url, tmp_path / "other") as elsewhere:
        elsewhere.ingest_items([draft_of(records[0])])
    other = pg_url.replace("search_path%3D", "search_path%3Dx")  # another (empty) schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {other.rsplit('%3D', 1)[1]}")
    word = records[0]["title"].split()[0]
    with node(pg_url, tmp_path / "a") as first:
        assert first.store.lexical(word, 5) != []
    with node(other, tmp_path / "a") as moved:
        assert moved.store.lexical(word, 5) == []


def test_kill_9_of_an_ingesting_process_loses_no_acknowledged_article_and_others_keep_serving(
    pg_url, tmp_path, monkeypatch
):
    """A real process ingests into PostgreSQL and is killed (SIGKILL) just after its 9th article was
    acknowledged: a node that was serving meanwhile keeps serving and finds every acknowledged one, and
    a node started afterwards from an empty folder holds them all, with vectors for every passage."""
    import json
    import os
    import signal

    from tests.engine.test_processes import faults

    rows = bundled_articles()[:24]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with node(pg_url, tmp_path / "serving") as serving:
        serving.search("anything")  # loaded (empty) before the other process writes
        monkeypatch.setenv("NEWSBOT_DATABASE_URL", pg_url)  # the worker's settings read it
        worker = faults.start("ingest", tmp_path / "worker", corpus, "hash")
        faults.wait_ready(worker)
        while (line := worker.stdout.readline()) and line.strip() != "ack 9":
            pass
        assert line.strip() == "ack 9", "the worker ended before its 9th acknowledgement"
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=60)
        assert worker.returncode == -signal.SIGKILL
        assert not (tmp_path / "worker" / "news.db").exists()  # it wrote to PostgreSQL, not a news.db
        for record in rows[:9]:
            assert serving.search(record["title"], k=1)[0].title == record["title"]
        assert sorted(serving.vectors.ids().tolist()) == sorted(serving.store.chunk_ids().tolist())
    with node(pg_url, tmp_path / "late") as late:
        assert late.stats()["articles"] >= 9
        for record in rows[:9]:
            assert late.search(record["title"], k=1)[0].title == record["title"]
        assert sorted(late.vectors.ids().tolist()) == sorted(late.store.chunk_ids().tolist())
        assert late.store.articles_without_chunks() == []
