"""These tests run on both stores: SQLite (the default) and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.config import Settings
from tests.conftest import backend_settings


@pytest.fixture
def settings(tmp_path: Path, backend: str, request) -> Settings:
    return backend_settings(backend, tmp_path / "data", request)
