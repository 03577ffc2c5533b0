"""Several processes, one data folder (docs/processes.md): only SQLite opens news.db, writes serialise,
every process's indexes follow the others' writes, acknowledged articles survive kill -9.

Processes are real: the fault benchmark's worker (benchmarks/faults.py, HashEmbedder) and the CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from index.config import Settings
from index.engine import Engine
from index.retrieval.vectors import VectorIndex, read_meta
from index.storage.backends import open_store
from tests.conftest import ROOT, bundled_articles, draft_of
from tests.helpers.embedders import HashEmbedder


def load_faults():
    spec = importlib.util.spec_from_file_location("faults_benchmark", ROOT / "benchmarks" / "faults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


faults = load_faults()


@pytest.fixture
def corpus(tmp_path) -> tuple[Path, list[dict]]:
    rows = bundled_articles()[:24]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def newsbot(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "index", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def ingest(data_dir: Path, source: Path) -> subprocess.Popen:
    return faults.start("ingest", data_dir, source, "hash")


def report_of(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    done = [line for line in out.splitlines() if line.startswith("done ")]
    return json.loads(done[0].removeprefix("done "))


def test_nothing_in_the_project_opens_the_database_file_but_sqlite():
    """A handle on news.db of our own drops SQLite's POSIX locks when it closes (How To Corrupt An
    SQLite Database File, 2.2): no mmap, and no open() of the database's path, anywhere."""
    offenders = []
    for path in [*(ROOT / "index").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        text = path.read_text()
        if re.search(r"\bmmap\.mmap\(|btree_pages|ResidentPages", text):
            offenders.append(f"{path.name}: maps or walks a file's pages")
        for line in text.splitlines():
            if re.search(r"\b(open|os\.open|io\.open)\(", line) and re.search(
                r"db_path|news\.db|\.path\b", line
            ):
                offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


def test_a_long_lived_engine_and_cli_commands_share_a_folder_safely(tmp_path, corpus):
    """The bot's workflow: a serving engine, an admin's CLI commands and an ingest beside it. The
    server's WAL files stay (nobody dropped its locks), it follows the other process's ingest, and
    SQLite is intact with every article."""
    source, rows = corpus
    data = tmp_path / "data"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[:8]))
    assert report_of(ingest(data, first))["added"] == 8
    server = faults.start("serve", data, None, "hash")
    try:
        faults.wait_ready(server)
        for _ in range(2):
            assert newsbot(data, "stats", "--json").returncode == 0
        assert newsbot(data, "articles", "--json").returncode == 0
        assert report_of(ingest(data, source))["added"] == len(rows) - 8
        server.stdin.write("state\n")
        server.stdin.flush()
        state = json.loads(server.stdout.readline().removeprefix("state "))
        assert state["vectors"] is True  # the server's index holds exactly SQLite's passages
        links = [os.readlink(f"/proc/{server.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{server.pid}/fd")]
        assert not [link for link in links if "news.db" in link and "(deleted)" in link], links
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    with sqlite3.connect(data / "news.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(rows)
        chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == chunks
    conn.close()


def test_two_ingests_at_once_report_racing_duplicates_and_leave_a_matching_index(tmp_path, corpus):
    source, rows = corpus
    data = tmp_path / "data"
    reports = [report_of(p) for p in [ingest(data, source), ingest(data, source)]]
    assert all(r["skipped"] == [] for r in reports), reports
    assert sum(r["added"] + r["duplicates"] for r in reports) == 2 * len(rows)
    with Engine(Settings(data_dir=data, _env_file=None), embedder=HashEmbedder()) as engine:
        stored = engine.store.counts()
        assert stored["articles"] + stored["duplicates"] == sum(r["added"] for r in reports)
        # the saved index itself, before any catching up, holds exactly SQLite's passages
        saved = VectorIndex.load(engine.settings.index_dir, "hash-embedder", 64)
        assert sorted(saved.ids().tolist()) == sorted(engine.store.chunk_ids().tolist())
        assert saved.seq == engine.store.change_seq()


def test_acknowledged_articles_survive_kill_9_and_stats_count_what_sqlite_holds(tmp_path, corpus):
    source, rows = corpus
    data = tmp_path / "data"
    result = faults.trial("ingest", data, source, rows, "hash", lambda d, a: [], ("ack", 9, 0.0))
    assert result["killed"] and result["acked"] >= 9
    engine = Engine(Settings(data_dir=data, _env_file=None))  # no model: stats never loads it
    try:
        stats = engine.stats()
        assert stats["articles"] >= result["acked"]
        assert stats["vectors"] == stats["chunks"] > 0  # what loading will hold, not the missing save
    finally:
        engine.close()
    assert faults.check(data, rows[: result["acked"]], HashEmbedder()) == []


def test_kill_9_trials_at_random_points_of_ingest_and_reindex():
    """A few of the benchmark's trials (it runs 24): each job killed at a random point, then checked
    (one of them runs `newsbot stats` halfway through an ingest, as in issue 15; one kills a feed
    poller's cycle)."""
    results = faults.run(trials=len(faults.JOBS), embedder="hash", seed=7, articles=16, per_folder=5)
    assert [r["problems"] for r in results] == [[]] * len(faults.JOBS)
    assert {r["job"] for r in results} == set(faults.JOBS)


# -- in one process: two engines on one folder stand for two processes ----------------------------


def test_an_engine_follows_the_writes_of_another_on_the_same_folder(settings):
    records = bundled_articles()[:6]
    with (
        Engine(settings, embedder=HashEmbedder()) as writer,
        Engine(settings, embedder=HashEmbedder()) as reader,
    ):
        reader.search("anything")  # loaded before the writes
        writer.ingest_items(draft_of(r) for r in records)
        assert sorted(reader.vectors.ids().tolist()) == sorted(writer.store.chunk_ids().tolist())
        assert reader.search(records[0]["title"], k=1)[0].title == records[0]["title"]
        gone = reader.search(records[0]["title"], k=1)[0].article_id
        assert writer.remove(gone)
        assert gone not in {h.article_id for h in reader.search(records[0]["title"], k=5)}
        assert sorted(reader.vectors.ids().tolist()) == sorted(writer.store.chunk_ids().tolist())


def test_an_engine_serves_the_keyword_index_another_one_rebuilt(settings):
    with (
        Engine(settings, embedder=HashEmbedder()) as writer,
        Engine(settings, embedder=HashEmbedder()) as reader,
    ):
        reader.search("anything")  # loaded before the writes: no keyword index yet
        writer.ingest_items(draft_of(r) for r in bundled_articles()[:4])
        writer.reindex()  # builds and saves the keyword (impact) index
        reader.search("anything")
        assert reader.store.impacts is not None
        assert reader.store.impacts.seq == writer.store.impacts.seq > 0


def test_a_saved_index_is_replaced_only_by_a_newer_one(settings):
    with (
        Engine(settings, embedder=HashEmbedder()) as early,
        Engine(settings, embedder=HashEmbedder()) as late,
    ):
        early.vectors  # noqa: B018 - loaded (empty, position 0) before the other's ingest
        late.ingest_items(draft_of(r) for r in bundled_articles()[:3])
        saved = read_meta(settings.index_dir)
        early._save_vectors(early._vectors)  # an older index: the newer one stays
        assert read_meta(settings.index_dir) == saved
        assert saved["seq"] == late.store.change_seq() > 0


def test_fetching_happens_outside_the_write_lock_and_articles_are_committed_before_reported(engine, settings):
    """A slow source (a fetch) holds no lock: a removal goes through meanwhile. And each article is
    in the store, seen from another connection, when progress reports it."""
    records = bundled_articles()[:2]
    fetching, release, removed = threading.Event(), threading.Event(), threading.Event()
    committed = []

    def slow_source():
        yield draft_of(records[0])
        fetching.set()
        release.wait(30)  # a fetch that takes its time
        yield draft_of(records[1])

    def progress(stage, done, _total):
        if stage == "ingest":
            with closing(open_store(settings)) as other:  # another connection (SQLite's or PostgreSQL's)
                committed.append(other.counts()["articles"] + other.counts()["duplicates"])

    ingesting = threading.Thread(target=lambda: engine.ingest_items(slow_source(), progress=progress))
    ingesting.start()
    assert fetching.wait(30)
    first = engine.articles()[0].id
    remover = threading.Thread(target=lambda: engine.remove(first) and removed.set())
    remover.start()
    went_through = removed.wait(30)
    release.set()
    ingesting.join(60)
    remover.join(60)
    assert went_through, "the removal waited for the fetch"
    assert committed == [1, 1]  # the first article, then (after it was removed) the second
    assert np.array_equal(np.sort(engine.vectors.ids()), np.sort(engine.store.chunk_ids()))
