"""Shared fixtures: the bundled news, engines on real SQLite + FAISS in tmp_path, and embedders.

The real model is loaded once per session (`real_embedder`); logic tests use `HashEmbedder`. The engine
and storage tests run on both stores (`backend`: SQLite, and PostgreSQL on 127.0.0.1:5432 in a
database made for the session, a schema per test; skipped, saying why, when no server answers).
"""

from __future__ import annotations

import json
import os
import secrets
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


PG_SERVER = os.environ.get("NEWSBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_SKIPPED: list[str] = []  # why the PostgreSQL tests were skipped, said again at the end of the run


def pytest_terminal_summary(terminalreporter) -> None:
    if PG_SKIPPED:
        terminalreporter.write_line(f"PostgreSQL tests SKIPPED: {PG_SKIPPED[0]}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def pg_database():
    """(URL of a fresh database for this session, None) or (None, why there is none). Dropped after."""
    try:
        import psycopg
    except ImportError as error:
        yield None, f"psycopg is not installed ({error})"
        return
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        yield None, f"PostgreSQL not reachable at {PG_SERVER.split('@')[-1].split('/')[0]}: {first}"
        return
    name = f"newsbot_test_{secrets.token_hex(4)}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}", None
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def pg_url(pg_database) -> str:
    """A PostgreSQL URL whose tables live in a schema of this test's own (empty, like a new folder)."""
    import psycopg

    url, why = pg_database
    if url is None:
        PG_SKIPPED.append(why)
        pytest.skip(why)
    schema = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    """Which store a test's `settings` opens (tests/engine, tests/storage)."""
    return request.param


def backend_settings(backend: str, data_dir: Path, request) -> Settings:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    return Settings(data_dir=data_dir, database_url=url, _env_file=None)
