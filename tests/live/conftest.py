"""Fixtures for the poller's tests: an engine that may fetch from 127.0.0.1, feeds served there, and a
clock the tests move."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.config import Settings
from index.engine import Engine
from index.live import Poller
from tests.helpers.embedders import HashEmbedder
from tests.helpers.feed_server import Entry, Feed, text
from tests.helpers.local_http import LocalServer, serve

START = 1_796_198_400.0  # 2026-12-02T08:00:00Z


class Clock:
    def __init__(self, at: float = START) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def live_settings(data_dir: Path, **options) -> Settings:
    options = {"fetch_allow": "127.0.0.1", "fetch_timeout": 2.0, **options}
    return Settings(data_dir=data_dir, _env_file=None, **options)


@pytest.fixture
def engine(tmp_path: Path, backend: str, request) -> Iterator[Engine]:
    """On both stores (tests/conftest.py): the feeds, their entries and the posts move to PostgreSQL."""
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    with Engine(live_settings(tmp_path / "data", database_url=url), embedder=HashEmbedder()) as eng:
        yield eng


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def poller(engine: Engine, clock: Clock) -> Poller:
    return Poller(engine, now=clock, rng=random.Random(7))


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


def entries(first: int, count: int) -> list[Entry]:
    return [Entry(f"s{n}", f"Story number {n}", text(n)) for n in range(first, first + count)]


@pytest.fixture
def site(server: LocalServer) -> Feed:
    return Feed(server, "/rss.xml", "Local Gazette", entries(1, 3))
