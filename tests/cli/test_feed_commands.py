"""`newsbot feeds add/list/remove`, `poll --once` and `stats` freshness, in-process on the HashEmbedder,
against feeds on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from index import cli
from index import engine as engine_module
from tests.helpers.embedders import HashEmbedder
from tests.helpers.feed_server import Feed
from tests.helpers.local_http import Response, serve
from tests.live.conftest import entries

runner = CliRunner()
FEED_KEYS = {"id", "url", "title", "scope", "interval_s", "last_checked", "last_new", "last_error"}
FEED_KEYS |= {"failures", "articles"}


@pytest.fixture
def newsbot(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "load_embedder", lambda *a, **k: HashEmbedder())
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", "127.0.0.1")
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, code: int = 0):
        result = runner.invoke(cli.app, list(args))
        assert result.exit_code == code, result.output
        return result

    return run


@pytest.fixture
def site():
    with serve() as server:
        yield Feed(server, "/rss.xml", "Local Gazette", entries(1, 3))


def test_add_list_poll_remove(newsbot, site):
    added = json.loads(newsbot("feeds", "add", site.url, "--interval", "30m", "--json").stdout)
    assert added["scope"] == "operator" and added["interval_s"] == 1800 and added["articles"] == 3
    [listed] = json.loads(newsbot("feeds", "list", "--json").stdout)
    assert set(listed) >= FEED_KEYS and listed["id"] == added["id"] and listed["failures"] == 0
    site.entries.extend(entries(10, 2))
    polled = json.loads(newsbot("poll", "--once", "--json").stdout)
    assert polled == {"feeds_checked": 1, "not_modified": 0, "new_articles": 2, "errors": []}
    again = json.loads(newsbot("poll", "--once", "--json").stdout)
    assert again == {"feeds_checked": 1, "not_modified": 1, "new_articles": 0, "errors": []}
    stats = json.loads(newsbot("stats", "--json").stdout)
    assert stats["news_as_of"] and stats["feeds"][0]["last_ok"] == stats["news_as_of"]
    assert stats["articles"] == 5
    assert "removed feed" in newsbot("feeds", "remove", str(added["id"])).stdout
    assert json.loads(newsbot("feeds", "list", "--json").stdout) == []


def test_poll_reports_failures_with_exit_status(newsbot, site):
    feed_id = json.loads(newsbot("feeds", "add", site.url, "--json").stdout)["id"]
    site.fail = Response(b"down", status=503, headers={"Retry-After": "120"})
    report = json.loads(newsbot("poll", "--once", "--json", code=1).stdout)
    assert report["errors"] == [{"feed": feed_id, "reason": "HTTP 503 Service Unavailable"}]
    [listed] = json.loads(newsbot("feeds", "list", "--json").stdout)
    assert listed["failures"] == 1 and listed["last_error"] == "HTTP 503 Service Unavailable"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["feeds", "add", "{feed}", "--interval", "2m"], 2, "too short"),
        (["feeds", "add", "{feed}", "--interval", "often"], 2, "bad interval"),
        (["feeds", "add", "notaurl"], 2, "bad feed URL"),
        (["feeds", "add", "{missing}"], 2, "HTTP 404"),
        (["feeds", "remove", "99"], 1, "no feed with id 99"),
        (["feeds", "remove", "x"], 2, "Invalid value"),
        (["poll"], 2, "--once"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(newsbot, site, args, code, message):
    args = [a.format(feed=site.url, missing=site.url + ".gone") for a in args]
    assert message in newsbot(*args, code=code).output
    assert json.loads(newsbot("feeds", "list", "--json").stdout) == []
    assert site.served == 0


def test_watch_stops_cleanly_on_ctrl_c(tmp_path):
    """`newsbot watch` in a real process: it says what it watches and stops on SIGINT with status 0."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSBOT_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "index", "watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout.readline().startswith("watching 0 feeds")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped") and "Traceback" not in err
