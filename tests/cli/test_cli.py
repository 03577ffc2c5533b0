"""The CLI contract, in-process with typer's runner, on a tiny data folder and the HashEmbedder."""

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index import cli
from index import engine as engine_module
from tests.conftest import NEWS
from tests.helpers.embedders import HashEmbedder

runner = CliRunner()


@pytest.fixture
def newsbot(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "load_embedder", lambda *a, **k: HashEmbedder())
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str, code: int = 0):
        result = runner.invoke(cli.app, list(args))
        assert result.exit_code == code, result.output
        return result

    return run


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    records = [json.loads(x) for x in (NEWS / "articles.jsonl").read_text().splitlines()[:4]]
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (folder / "sample.txt").write_text((NEWS / "000_89a10502558b9348.txt").read_text())
    return folder, records


def test_ingest_json_reports_counts_and_is_idempotent(newsbot, corpus):
    folder, records = corpus
    first = json.loads(newsbot("ingest", str(folder), "--json").stdout)
    assert first == {"added": len(records) + 1, "updated": 0, "duplicates": 0, "skipped": []}
    again = json.loads(newsbot("ingest", str(folder), "--json").stdout)
    assert again == {"added": 0, "updated": 0, "duplicates": len(records) + 1, "skipped": []}


def test_ingest_exit_status_says_something_failed(newsbot, corpus, tmp_path):
    folder, _ = corpus
    (folder / "broken.json").write_text("{not json")
    report = json.loads(newsbot("ingest", str(folder), str(tmp_path / "missing"), "--json", code=1).stdout)
    reasons = {item["source"]: item["reason"] for item in report["skipped"]}
    assert report["added"] == 5 and len(reasons) == 2
    assert any("no such file" in r for r in reasons.values())


def test_articles_show_search_stats_remove(newsbot, corpus):
    folder, records = corpus
    newsbot("ingest", str(folder), "--json")
    listed = json.loads(newsbot("articles", "--json").stdout)
    assert {a["url"] for a in listed} >= {r["url"] for r in records}
    assert all(set(a) == {"id", "title", "source", "url", "published"} for a in listed)
    sample = next(a for a in listed if a["published"] == "2025-03-28")
    shown = json.loads(newsbot("show", sample["id"], "--json").stdout)
    assert shown["body"].startswith("The U.S. president") and shown["title_derived"]

    hits = json.loads(newsbot("search", "Carney Canada election", "-k", "3", "--json").stdout)
    assert hits and hits[0]["article_id"] == sample["id"]
    keys = {"article_id", "title", "source", "url", "published", "excerpt", "start", "end", "score"}
    for hit in hits:
        assert set(hit) == keys
        body = json.loads(newsbot("show", hit["article_id"], "--json").stdout)["body"]
        assert body[hit["start"] : hit["end"]] == hit["excerpt"]

    stats = json.loads(newsbot("stats", "--json").stdout)
    assert stats["articles"] == len(records) + 1 and stats["vectors"] == stats["chunks"] > 0
    assert stats["model"] == "hash-embedder" and stats["index_built_at"]

    newsbot("remove", sample["id"])
    assert sample["id"] not in {a["id"] for a in json.loads(newsbot("articles", "--json").stdout)}
    newsbot("remove", sample["id"], code=1)
    newsbot("show", sample["id"], code=1)


def test_search_filters_from_the_command_line(newsbot, corpus):
    folder, records = corpus
    newsbot("ingest", str(folder), "--json")
    source = records[0]["source"]
    hits = json.loads(newsbot("search", "the", "--source", source, "--json").stdout)
    assert hits and {h["source"] for h in hits} == {source}
    dated = json.loads(newsbot("search", "the", "--since", "2025-01-01", "--json").stdout)
    assert dated and all(h["published"] >= "2025-01-01" for h in dated)


def test_viewer_option_shows_what_a_server_or_dms_see(newsbot, corpus, tmp_path):
    from index.config import Settings
    from index.engine import Engine
    from index.models import ArticleDraft

    folder, _ = corpus
    newsbot("ingest", str(folder), "--json")  # the operator's news
    body = "Jellyfish filled the harbour of Quillmoor on Saturday. " * 3
    own = ArticleDraft(body=body, origin="t", source="Q")
    with Engine(Settings(data_dir=tmp_path / "data", _env_file=None), embedder=HashEmbedder()) as engine:
        engine.ingest_items([own], scope="guild:5")
    listed = {}
    for viewer in (None, "operator", "guild:5", "guild:6"):
        option = ["--viewer", viewer] if viewer else []
        listed[viewer] = len(json.loads(newsbot("articles", "--json", *option).stdout))
    assert listed == {None: 6, "operator": 5, "guild:5": 6, "guild:6": 5}
    hits = json.loads(newsbot("search", "jellyfish Quillmoor", "--viewer", "guild:6", "--json").stdout)
    assert "Q" not in {h["source"] for h in hits}
    refused = newsbot("articles", "--viewer", "guild:x", code=2)
    assert "not a scope: 'guild:x'" in refused.output


def test_reindex_reuses_stored_embeddings(newsbot, corpus):
    folder, _ = corpus
    newsbot("ingest", str(folder), "--json")
    report = json.loads(newsbot("reindex", "--json").stdout)
    assert report["embedded"] == 0 and report["reused"] == report["chunks"] > 0


def test_every_command_has_help(newsbot):
    top = newsbot("--help").stdout
    for command in cli.app.registered_commands:
        name = command.name or command.callback.__name__
        assert name in top
        result = newsbot(name, "--help")
        assert (
            "Usage" in result.stdout and (command.callback.__doc__ or "").split("\n")[0][:30] in result.stdout
        )


def unboxed(output: str) -> str:
    """An error message without the box typer draws around it (lines joined with single spaces)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


class StrictEmbedder(HashEmbedder):
    """Refuses what a real tokenizer refuses: text that is not encodable (lone surrogates)."""

    def embed(self, texts):
        for text in texts:
            text.encode("utf-8")
        return super().embed(texts)


def test_lone_surrogates_in_a_query_are_cleaned_not_a_crash(newsbot, corpus, tmp_path, monkeypatch):
    r"""`$'bankman \xff\xfe fried'` reaches Python as lone surrogates; a JSON "\ud800" too."""
    monkeypatch.setattr(engine_module, "load_embedder", lambda *a, **k: StrictEmbedder())
    folder, _ = corpus
    newsbot("ingest", str(folder), "--json")
    hits = json.loads(newsbot("search", "Carney \udcff\udcfe Canada election", "--json").stdout)
    assert hits and "Canada" in hits[0]["excerpt"] + hits[0]["title"]
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "query": "Carney \\ud800 election"}\n')
    (row,) = [json.loads(x) for x in newsbot("search", "--queries", str(queries)).stdout.splitlines()]
    assert row["id"] == "q1" and row["hits"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["q2", "a list"]', "line 2: expected an object"),
        ('{"id": "q2"}', 'line 2: "query" must be a non-empty string'),
        ('{"id": true, "query": "x"}', 'line 2: "id" must be a string or a whole number'),
        ('{"id": "\\udc80", "query": "x"}', 'line 2: "id" holds characters that are not text'),
    ],
)
def test_a_malformed_queries_line_is_named_and_nothing_runs(newsbot, tmp_path, line, problem):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "query": "Canada"}\n' + line + "\n")
    result = newsbot("search", "--queries", str(queries), code=2)
    assert problem in unboxed(result.output) and "Traceback" not in result.output
    assert '"q1"' not in result.stdout  # checked before the first query runs


def test_queries_file_that_is_missing_or_not_utf8(newsbot, tmp_path):
    result = newsbot("search", "--queries", str(tmp_path / "missing.jsonl"), code=2)
    assert "does not exist" in result.output
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"id": "q1", "query": "caf\xe9"}\n')
    result = newsbot("search", "--queries", str(latin), code=2)
    assert "line 1: not valid UTF-8" in unboxed(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ("search", "x", "--since", "garbage"),
        ("search", "x", "--until", "2024-13-45"),
        ("search", "x", "-k", "0"),
        ("search", "   "),
        ("articles", "--limit", "-1"),
        ("articles", "--since", "yesterday"),
        ("search", "x", "--since", "2023-10-01", "--until", "2023-01-01"),
        ("articles", "--until", "2023-01-01", "--since", "2023-10-01"),
        ("show", "\udcff"),
        ("remove", "\udcff"),
        ("search", "x", "--source", "\udcff"),
        ("articles", "--source", ""),
        ("summary", "--topic", " "),
    ],
)
def test_bad_arguments_get_a_clear_message_and_change_nothing(newsbot, corpus, args):
    folder, _ = corpus
    newsbot("ingest", str(folder), "--json")
    before = newsbot("stats", "--json").stdout
    result = newsbot(*args, code=2)
    assert "Invalid value" in result.output and "Traceback" not in result.output
    after = newsbot("stats", "--json").stdout
    assert json.loads(after)["articles"] == json.loads(before)["articles"]


def test_a_file_name_with_undecodable_bytes_is_ingested_and_reported(newsbot, tmp_path):
    """Linux file names are bytes; Python shows an undecodable one with lone surrogates."""
    folder = tmp_path / "odd"
    folder.mkdir()
    body = b"The harbour council agreed the ferry budget on Tuesday after a long debate. " * 4
    (Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.txt"))).write_bytes(body)
    (Path(os.fsdecode(os.fsencode(folder) + b"/bad\xff.bin"))).write_bytes(b"x")
    result = newsbot("ingest", str(folder), "--json", code=1)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["added"] == 1
    assert report["skipped"] == [
        {"source": f"{folder}/bad\ufffd.bin", "reason": "unsupported file type .bin"}
    ]
    human = newsbot("ingest", os.fsdecode(os.fsencode(folder) + b"/gone\xfe.txt"), code=1)
    assert "skipped " in human.stdout and "gone\ufffd.txt: no such file or folder" in human.stdout


def test_a_bad_setting_is_named_not_a_traceback(newsbot, monkeypatch):
    monkeypatch.setenv("NEWSBOT_FETCH_MAX_BYTES", "five megabytes")
    result = newsbot("stats", code=2)
    assert "NEWSBOT_FETCH_MAX_BYTES: Input should be a valid integer" in result.output
    assert "Traceback" not in result.output


def test_a_data_folder_that_cannot_hold_newsbots_database_is_named_not_a_traceback(newsbot, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("notes")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "news.db").write_bytes(b"not a database at all, just bytes " * 300)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    with sqlite3.connect(foreign / "news.db") as conn:
        conn.execute("CREATE TABLE articles (x)")
    before = (foreign / "news.db").read_bytes()
    cases = [
        (a_file, "is a file, not a folder"),
        (garbage, "as an SQLite database (file is not a database)"),
        (foreign, "another program's SQLite database (tables: articles)"),
    ]
    for folder, message in cases:
        result = newsbot("stats", "--data-dir", str(folder), code=2)
        assert message in result.output
        assert "Traceback" not in result.output
    assert (foreign / "news.db").read_bytes() == before  # no tables added, not switched to WAL
