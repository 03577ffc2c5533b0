"""Fixtures for the source-parser tests: the fixture folder and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.sources import Fetcher

from .local_http import LocalServer, serve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
LOCAL = ("127.0.0.1",)  # the test servers' address, allowed explicitly (fetching refuses it by default)


def local_fetcher(**options) -> Fetcher:
    """A Fetcher that may reach the test servers on 127.0.0.1."""
    return Fetcher(allow=LOCAL, **options)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the local server must not be routed through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with local_fetcher() as made:
        yield made
