"""Fixtures for the bot's tests: engines over the bundled news, the fake Discord, a running NewsBot.

`hash_news_engine` is a fresh copy (per test) of a small store built once per session with a fast,
deterministic embedder; `news_engine` (root conftest) is the real model over all bundled news.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from bot.client import NewsBot
from bot.settings import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.conftest import bundled_articles, draft_of
from tests.fake_discord import FakeDiscord, World
from tests.helpers.embedders import HashEmbedder

HASH_ARTICLES = 20


class FastHashEmbedder(HashEmbedder):
    """HashEmbedder with each word's direction cached, and an optional pause per call (slow model)."""

    def __init__(self, *, delay: float = 0.0, **kwargs):
        super().__init__(max_tokens=400, **kwargs)
        self.delay = delay

    @functools.cache  # noqa: B019 - a test helper living for the session
    def _word(self, word: str) -> np.ndarray:
        return super()._word(word)

    def embed(self, texts):
        if self.delay:
            time.sleep(self.delay)
        return super().embed(texts)


@pytest.fixture(scope="session")
def hash_news_template(tmp_path_factory) -> Path:
    """A data folder with the first bundled articles, indexed with FastHashEmbedder (built once)."""
    data = tmp_path_factory.mktemp("hash-news") / "data"
    with Engine(Settings(data_dir=data, _env_file=None), embedder=FastHashEmbedder()) as eng:
        eng.ingest_items(draft_of(r) for r in bundled_articles()[:HASH_ARTICLES])
    return data


@pytest.fixture
def hash_embedder_slow() -> FastHashEmbedder:
    return FastHashEmbedder(delay=0.0)


@pytest.fixture
def hash_news_engine(hash_news_template: Path, tmp_path: Path, hash_embedder_slow) -> Iterator[Engine]:
    """A private, writable copy of the small hash-embedded store."""
    data = tmp_path / "data"
    shutil.copytree(hash_news_template, data)
    with Engine(Settings(data_dir=data, _env_file=None), embedder=hash_embedder_slow) as eng:
        yield eng


def bot_settings(**overrides) -> BotSettings:
    values = {"question_rate": 50, "question_window": 60.0, "progress_interval": 0.1} | overrides
    return BotSettings(_env_file=None, **values)


@pytest_asyncio.fixture(loop_scope="function")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(world=World()) as fake:
        yield fake


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, engine: Engine, data_dir: Path | None = None, **overrides
) -> AsyncIterator[NewsBot]:
    """A NewsBot on `engine`, connected to `fake`, with the dev guild set to the fake's guild."""
    settings = bot_settings(dev_guild_id=fake.world.guild_id, **overrides)
    bot = NewsBot(engine=engine, settings=settings, data_dir=data_dir or engine.settings.data_dir)
    async with fake.run_bot(bot):
        yield bot
