"""pytest fixtures for the fake Discord.

Enable them in a test module (or in ``tests/conftest.py``) with::

    pytest_plugins = ["tests.fake_discord.plugin"]

The fixtures use the *test's* event loop (``loop_scope="function"``): the project's default
fixture loop scope is "session" while tests run in a per-function loop, and an aiohttp server
must live in the loop the test awaits on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeDiscord
from .world import World


@pytest_asyncio.fixture(loop_scope="function")
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py patched to use it (fresh seed per test)."""
    async with FakeDiscord(world=World()) as fake:
        yield fake
