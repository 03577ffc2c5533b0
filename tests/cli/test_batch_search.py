"""The batch search contract (`newsbot search --queries FILE --json`) and the retrieval benchmark script,
on a tiny corpus with the deterministic HashEmbedder standing in for the model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import index.engine
from index.cli import app
from tests.helpers.embedders import HashEmbedder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "retrieval"
CORPUS = FIXTURES / "corpus.jsonl"
QUERIES = FIXTURES / "queries.jsonl"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hash_model(monkeypatch):
    """Every engine the CLI builds uses the HashEmbedder instead of loading the real model."""
    monkeypatch.setattr(index.engine, "load_embedder", lambda *a, **kw: HashEmbedder())


@pytest.fixture
def data_dir(tmp_path: Path, hash_model) -> Path:
    folder = tmp_path / "data"
    result = CliRunner().invoke(app, ["ingest", str(CORPUS), "--data-dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 4
    return folder


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_line_per_query_with_ids_echoed_in_order(data_dir: Path):
    out = run("search", "--queries", str(QUERIES), "-k", "3", "--json", "--data-dir", str(data_dir))
    lines = [json.loads(line) for line in out.splitlines()]
    expected = [json.loads(line)["id"] for line in QUERIES.read_text().splitlines() if line.strip()]
    assert [line["id"] for line in lines] == expected
    assert all(set(line) == {"id", "hits"} for line in lines)
    assert all(1 <= len(line["hits"]) <= 3 for line in lines)


def test_batch_hits_are_the_single_query_hits(data_dir: Path):
    out = run("search", "--queries", str(QUERIES), "--json", "--data-dir", str(data_dir))
    first = json.loads(out.splitlines()[0])
    query = json.loads(QUERIES.read_text().splitlines()[0])["query"]
    single = json.loads(run("search", query, "--json", "--data-dir", str(data_dir)))
    assert first["hits"] == single


def test_excerpts_are_verbatim_spans_of_the_shown_article(data_dir: Path):
    out = run("search", "--queries", str(QUERIES), "--json", "--data-dir", str(data_dir))
    hits = [hit for line in out.splitlines() for hit in json.loads(line)["hits"]]
    assert hits
    bodies: dict[str, str] = {}
    for hit in hits:
        assert {
            "article_id",
            "title",
            "source",
            "url",
            "published",
            "excerpt",
            "start",
            "end",
            "score",
        } <= set(hit)
        if hit["article_id"] not in bodies:
            shown = json.loads(run("show", hit["article_id"], "--json", "--data-dir", str(data_dir)))
            bodies[hit["article_id"]] = shown["body"]
        assert hit["excerpt"] == bodies[hit["article_id"]][hit["start"] : hit["end"]]


def test_the_evidence_is_found(data_dir: Path):
    out = run("search", "--queries", str(QUERIES), "-k", "4", "--json", "--data-dir", str(data_dir))
    by_id = {line["id"]: line["hits"] for line in map(json.loads, out.splitlines())}
    assert any("40 million dollars" in hit["excerpt"] for hit in by_id["q1"])
    sources = {hit["source"] for hit in by_id["q2"]}
    assert {"TechWire", "Sports Daily"} <= sources
    assert by_id["q3"][0]["published"] == "2023-10-20"


def test_blank_lines_are_skipped(data_dir: Path, tmp_path: Path):
    file = tmp_path / "q.jsonl"
    file.write_text('\n{"id": 7, "query": "ferry terminal cost"}\n\n')
    out = run("search", "--queries", str(file), "--json", "--data-dir", str(data_dir))
    [line] = [json.loads(x) for x in out.splitlines()]
    assert line["id"] == 7 and line["hits"]


def test_query_and_queries_file_are_exclusive(data_dir: Path):
    result = CliRunner().invoke(
        app, ["search", "ferry", "--queries", str(QUERIES), "--data-dir", str(data_dir)]
    )
    assert result.exit_code != 0


def load_benchmark():
    spec = importlib.util.spec_from_file_location("retrieval_benchmark", ROOT / "benchmarks" / "retrieval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_script_end_to_end(hash_model, tmp_path: Path, capsys):
    bench = load_benchmark()
    summary_file, details_file = tmp_path / "summary.json", tmp_path / "details.jsonl"
    args = ["--corpus", str(CORPUS), "--queries", str(QUERIES), "--data-dir", str(tmp_path / "d")]
    assert bench.main([*args, "--json", str(summary_file), "--details", str(details_file)]) == 0
    printed = capsys.readouterr().out
    assert "hits@10" in printed and "search:" in printed
    summary = json.loads(summary_file.read_text())
    assert summary["metrics"]["overall"]["n"] == 3  # the null query is searched but not scored
    assert set(summary["metrics"]) == {"overall", "comparison_query", "inference_query", "temporal_query"}
    assert summary["metrics"]["overall"]["hits@10"] == 1.0
    assert summary["ingest"]["added"] == 4
    assert len(details_file.read_text().splitlines()) == 3
    # a second run reuses the folder: nothing is added or embedded again
    assert bench.main([*args, "--json", str(summary_file)]) == 0
    again = json.loads(summary_file.read_text())
    assert again["ingest"]["added"] == 0 and again["ingest"]["embedded"] == 0
    assert again["metrics"] == summary["metrics"]
