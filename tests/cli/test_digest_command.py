"""`newsbot digest`: the same digest as the bot posts, as text or as `summary --json`'s JSON."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from index.cli import app, digest_command
from tests.live.test_digests import stocked


@pytest.fixture
def cli(engine, monkeypatch):
    news = stocked(engine)

    @contextmanager
    def shared(data_dir):
        yield news

    monkeypatch.setattr(digest_command, "open_engine", shared)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_digest_json_is_summarys_shape_ranked_by_outlets(cli, engine) -> None:
    result = cli("digest", "--since", "2d", "--now", "2026-12-03", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"points", "citations"}
    assert (
        data["points"][0]["heading"] == "Rail tunnel finished (3 outlets: Wire One, Daily Two, Times Three)"
    )
    for c in data["citations"]:
        assert engine.article(c["article_id"]).body[c["start"] : c["end"]] == c["excerpt"]


def test_digest_text_has_a_header_and_a_viewer_sees_only_its_news(cli) -> None:
    text = cli("digest", "--since", "2026-12-02", "--until", "2026-12-03", "--viewer", "guild:22")
    assert text.exit_code == 0, text.output
    assert text.output.startswith("3 stories from 6 outlets\nNews digest, 2026-12-02 to 2026-12-03")
    assert "Stadium" not in text.output and "Sources:" in text.output
    old = cli("digest", "--since", "1d", "--now", "2026-11-20")
    assert "Nothing in the news I have covers this." in old.output


def test_digest_arguments_are_checked(cli) -> None:
    soon = cli("digest", "--since", "soon")
    assert soon.exit_code == 2 and "a period is a number and a unit" in soon.output
    assert cli("digest", "--since", "2026-12-04", "--until", "2026-12-03").exit_code == 2
    assert cli("digest", "--points", "0").exit_code == 2
    assert cli("digest", "--topic", " ").exit_code == 2
