"""The CLI contract of `newsbot ask` and `newsbot summary` (JSON shapes, batch files, human output)."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from index.cli import answer_commands, app

pytestmark = pytest.mark.model
CITATION_KEYS = {"n", "article_id", "title", "source", "url", "published", "excerpt", "start", "end",
                 "article_index", "label"}  # fmt: skip
QUESTION = "What did a judge rule about Donald Trump's real estate empire?"


@pytest.fixture
def cli(news_engine, monkeypatch):
    """Runs `newsbot` commands against the session's engine over the bundled news."""

    @contextmanager
    def shared(data_dir):
        yield news_engine

    monkeypatch.setattr(answer_commands, "open_engine", shared)
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        return result

    return run


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_ask_json(cli, news_engine) -> None:
    result = cli("ask", QUESTION, "--json")
    assert result.exit_code == 0, result.output
    (data,) = lines(result.output)
    assert set(data) == {"answer", "abstained", "citations"}
    assert data["abstained"] is False and data["citations"]
    for c in data["citations"]:
        assert set(c) == CITATION_KEYS
        assert news_engine.article(c["article_id"]).body[c["start"] : c["end"]] == c["excerpt"]
    assert "[1]" in data["answer"]


def test_ask_batch_prints_one_line_per_question(cli, tmp_path) -> None:
    file = tmp_path / "q.jsonl"
    file.write_text(
        json.dumps({"id": "q1", "query": QUESTION}) + "\n\n"
        + json.dumps({"id": "q2", "query": "What is the recipe for sourdough bread?"}) + "\n"
    )  # fmt: skip
    result = cli("ask", "--questions", str(file), "--json")
    assert result.exit_code == 0, result.output
    rows = lines(result.output)
    assert [r["id"] for r in rows] == ["q1", "q2"]
    assert [r["abstained"] for r in rows] == [False, True]
    assert all(set(r) == {"id", "answer", "abstained", "citations"} for r in rows)


def test_ask_human_output_lists_sources(cli) -> None:
    result = cli("ask", QUESTION)
    assert result.exit_code == 0
    assert "Sources:" in result.output and "[1] " in result.output and "Fortune, 2023-09-26" in result.output


def test_ask_lists_each_article_once_with_its_excerpts_under_their_labels(cli) -> None:
    data = lines(cli("ask", QUESTION, "--json").output)[0]
    output = cli("ask", QUESTION).output
    answer_text, sources = output.split("\nSources:\n")
    for c in data["citations"]:  # the JSON keeps one citation per excerpt, grouped by article_index
        same = [d for d in data["citations"] if d["article_id"] == c["article_id"]]
        assert {d["article_index"] for d in same} == {c["article_index"]}
        label = str(c["article_index"]) + ("" if len(same) == 1 else "abcdefghij"[same.index(c)])
        assert c["label"] == label
        assert f"[{label}]" in answer_text
        assert f"    [{label}] “{' '.join(c['excerpt'].split())}”" in sources
    for title in {c["title"] for c in data["citations"]}:
        assert sources.count(title) == 1


def test_ask_needs_exactly_one_question(cli, tmp_path) -> None:
    assert cli("ask").exit_code != 0
    assert cli("ask", "x", "--questions", str(tmp_path / "q.jsonl")).exit_code != 0


def test_summary_of_an_article(cli, news_engine) -> None:
    aid = next(a.id for a in news_engine.articles() if "eintracht" in (a.url or ""))
    result = cli("summary", "--article", aid, "--json")
    assert result.exit_code == 0, result.output
    (data,) = lines(result.output)
    assert set(data) == {"points", "citations"}
    assert all(set(p) == {"text", "citations"} for p in data["points"])
    assert all(set(c) == CITATION_KEYS for c in data["citations"])
    assert {n for p in data["points"] for n in p["citations"]} == {c["n"] for c in data["citations"]}


def test_summary_length_option(cli, news_engine) -> None:
    aid = next(a.id for a in news_engine.articles() if "eintracht" in (a.url or ""))
    (default,) = lines(cli("summary", "--article", aid, "--json").output)
    result = cli("summary", "--article", aid, "--points", "5", "--json")
    assert result.exit_code == 0, result.output
    (longer,) = lines(result.output)
    assert len(default["points"]) == 3 and len(longer["points"]) == 5
    assert set(longer) == {"points", "citations"}
    refused = cli("summary", "--article", aid, "--points", "0")
    assert refused.exit_code != 0 and "1 to 10 points" in refused.output


def test_summary_of_many_articles(cli, news_engine, tmp_path) -> None:
    ids = [a.id for a in news_engine.articles()[:2]]
    file = tmp_path / "ids.txt"
    file.write_text("\n".join([*ids, "missing-id"]) + "\n")
    result = cli("summary", "--articles", str(file), "--json")
    assert result.exit_code == 0, result.output
    rows = lines(result.output)
    assert [r["id"] for r in rows] == [*ids, "missing-id"]
    assert rows[0]["points"] and rows[2]["points"] == []


def test_summary_of_a_topic_and_a_period(cli) -> None:
    topic = cli("summary", "--topic", "Sam Bankman-Fried trial", "--json")
    assert topic.exit_code == 0 and lines(topic.output)[0]["points"]
    period = cli("summary", "--period", "7d", "--now", "2023-12-20", "--json")
    assert period.exit_code == 0
    points = lines(period.output)[0]["points"]
    assert points and "heading" in points[0]
    human = cli("summary", "--period", "7d", "--now", "2023-12-20")
    assert "News from 2023-12-14 to 2023-12-20" in human.output and "Sources:" in human.output


def test_summary_arguments_are_checked(cli) -> None:
    assert cli("summary").exit_code != 0
    assert cli("summary", "--topic", "x", "--period", "7d").exit_code != 0
    assert cli("summary", "--period", "soon").exit_code != 0
    missing = cli("summary", "--article", "no-such-id")
    assert missing.exit_code == 1


def test_commands_are_listed_in_help(cli) -> None:
    result = cli("--help")
    assert "ask" in result.output and "summary" in result.output


def test_lone_surrogates_in_a_question_are_cleaned_not_a_crash(cli, tmp_path) -> None:
    """Undecodable argv bytes (`$'bankman \xff\xfe fried'`) and a JSON "\ud800" reach the real tokenizer."""
    result = cli("ask", "Sam Bankman \udcff\udcfe Fried trial", "--json")
    assert result.exit_code == 0, result.output
    assert set(lines(result.output)[0]) == {"answer", "abstained", "citations"}
    file = tmp_path / "q.jsonl"
    file.write_text('{"id": "q1", "query": "Bankman \\ud800 Fried"}\n{"id": "q2", "query": 7}\n')
    bad = cli("ask", "--questions", str(file), "--json")
    message = " ".join(re.sub(r"[│╭╮╰╯─]", " ", bad.output).split())
    assert bad.exit_code == 2 and 'line 2: "query" must be a non-empty string' in message
    file.write_text('{"id": "q1", "query": "Bankman \\ud800 Fried"}\n')
    assert cli("ask", "--questions", str(file), "--json").exit_code == 0
