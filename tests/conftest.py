"""Shared fixtures: the bundled news, engines on real SQLite + FAISS in tmp_path, and embedders.

The real model is loaded once per session (`real_embedder`); logic tests use `HashEmbedder`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index.config import Settings
from index.engine import Engine
from index.models import ArticleDraft
from index.sources.records import record_to_draft
from tests.helpers.embedders import HashEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT / "news"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def bundled_articles() -> list[dict]:
    return [json.loads(line) for line in (NEWS / "articles.jsonl").read_text().splitlines() if line.strip()]


def draft_of(record: dict) -> ArticleDraft:
    """A bundled record as the product's own JSON parser reads it."""
    draft = record_to_draft(record, record["id"])
    assert isinstance(draft, ArticleDraft), draft
    return draft


@pytest.fixture(scope="session")
def real_embedder():
    """The default path for this CPU; NEWSBOT_TEST_BACKEND runs the suite on another one (as another
    CPU would choose it), e.g. onnx (fp32), onnx-int8 or openvino-int8."""
    from index.embedding.embedder import load_embedder

    return load_embedder(backend=os.environ.get("NEWSBOT_TEST_BACKEND", "auto"))


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
def engine(settings: Settings, hash_embedder: HashEmbedder):
    with Engine(settings, embedder=hash_embedder) as eng:
        yield eng


@pytest.fixture(scope="session")
def news_engine(tmp_path_factory, real_embedder):
    """A read-only engine over all bundled news with the real model, built once per session."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("news") / "data", _env_file=None)
    eng = Engine(settings, embedder=real_embedder)
    eng.ingest_items(draft_of(r) for r in bundled_articles())
    eng.reindex()  # searches go through the BM25 impact index, as on a store after `newsbot reindex`
    yield eng
    eng.close()
