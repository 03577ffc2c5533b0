"""`newsbot alerts test|add|list|remove`, in-process on the HashEmbedder: the test shows exactly what the
live rule matches, one row per story, excerpts verbatim; bad input exits 2 having changed nothing."""

from __future__ import annotations

import json

import pytest

from tests.cli import test_cli
from tests.helpers.feed_server import text
from tests.live.test_alerts import about

newsbot = test_cli.newsbot  # the CLI in-process, on the HashEmbedder
ROW_KEYS = {"article_id", "title", "source", "published", "score", "excerpt", "start", "end"}


@pytest.fixture
def corpus(tmp_path):
    records = [
        {"title": "Rates climb", "body": about(1), "source": "A Daily", "url": "https://a.example/1",
         "published": "2026-12-01"},
        {"title": "Rates again", "body": about(2), "source": "B Post", "url": "https://b.example/2",
         "published": "2026-11-10"},
        {"title": "Club signs striker", "body": text(3, 60), "source": "A Daily",
         "url": "https://a.example/3", "published": "2026-12-01"},
    ]  # fmt: skip
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    return path, records


def test_alerts_test_rows_are_the_matching_stories_verbatim(newsbot, corpus):
    path, records = corpus
    newsbot("ingest", str(path))
    rows = json.loads(newsbot("alerts", "test", "interest rates", "--now", "2026-12-02", "--json").stdout)
    [row] = rows  # the 7 days before --now: the November story is older, the third is not about it
    assert set(row) == ROW_KEYS and row["title"] == "Rates climb"
    assert records[0]["body"][row["start"] : row["end"]] == row["excerpt"]
    wider = newsbot("alerts", "test", "interest rates", "--since", "2026-11-01", "--json").stdout
    assert sorted(r["title"] for r in json.loads(wider)) == ["Rates again", "Rates climb"]
    assert "Rates climb" in newsbot("alerts", "test", "interest rates", "--now", "2026-12-02").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alerts", "test", "interest rates", "--since", "a week"], "neither a duration"),
        (["alerts", "test", "the of and"], "no word that names a subject"),
        (["alerts", "add", "", "--channel", "5"], "a topic needs a few words"),
        (["alerts", "add", "rates", "--channel", "5", "--scope", "server 1"], "not a scope"),
        (["alerts", "remove", "99"], "no alert #99"),
    ],
)
def test_bad_input_exits_2_with_the_reason(newsbot, args, message):
    result = newsbot(*args, code=2)
    assert message in result.output
    assert json.loads(newsbot("alerts", "list", "--json").stdout) == []


def test_add_list_remove(newsbot):
    added = json.loads(newsbot("alerts", "add", "interest rates", "--channel", "5", "--json").stdout)
    assert (added["scope"], added["target"], added["topic"]) == ("operator", "channel:5", "interest rates")
    assert newsbot("alerts", "add", "Interest Rates", "--channel", "5", code=2).output.count(
        "already followed"
    )
    [listed] = json.loads(newsbot("alerts", "list", "--json").stdout)
    assert listed == added
    assert "removed alert" in newsbot("alerts", "remove", str(added["id"])).stdout
    assert json.loads(newsbot("alerts", "list", "--json").stdout) == []
