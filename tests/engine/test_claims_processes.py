"""Visibility follows other processes (docs/processes.md): a claim another process adds or releases,
changing no passage, is seen by the next search of an engine that is serving. Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from index.config import Settings
from index.engine import Engine
from index.models import ArticleDraft
from index.scopes import guild_scope
from tests.conftest import ROOT
from tests.helpers.embedders import HashEmbedder

FLOOD = (
    "Heavy rain flooded the river valley overnight and hundreds of homes were evacuated. "
    "Rescue teams used boats to reach villages cut off by the water. "
    "The weather service warned that more storms would follow this week."
)
A, B = guild_scope(1), guild_scope(2)


def flood() -> ArticleDraft:
    return ArticleDraft(body=FLOOD, origin="test", url="https://b.example/flood", source="B Daily")


def in_another_process(data_dir: Path, code: str) -> None:
    script = textwrap.dedent(
        f"""
        from index.config import Settings
        from index.engine import Engine
        from index.models import ArticleDraft
        from tests.helpers.embedders import HashEmbedder
        with Engine(Settings(data_dir={str(data_dir)!r}, _env_file=None), embedder=HashEmbedder()) as engine:
            draft = ArticleDraft(
                body={FLOOD!r}, origin="test", url="https://b.example/flood", source="B Daily"
            )
        """
    ) + textwrap.indent(textwrap.dedent(code), "    ")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_claim_changed_by_another_process_is_seen_by_a_serving_engine(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    with Engine(settings, embedder=HashEmbedder()) as engine:
        engine.ingest_items([flood()], scope=B)
        query = "homes evacuated flood river"
        assert engine.search(query, viewer=B) and engine.search(query, viewer=A) == []  # indexes loaded
        passages = engine.vectors.count

        in_another_process(settings.data_dir, 'engine.ingest_items([draft], scope="guild:1")')
        assert {h.source for h in engine.search(query, viewer=A)} == {"B Daily"}
        assert [s["source"] for s in engine.sources(viewer=A)] == ["B Daily"]
        assert engine.vectors.count == passages  # no passage changed: only who may see them

        in_another_process(
            settings.data_dir,
            'engine.release([draft_id], scope="guild:1")'.replace("draft_id", repr(engine.articles()[0].id)),
        )
        assert engine.search(query, viewer=A) == [] and engine.sources(viewer=A) == []
        assert engine.search(query, viewer=B)
