"""Running a discord.py client against the fake: start, wait for ready, close cleanly, report errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
import discord
from aiohttp.abc import AbstractResolver, ResolveResult
from discord.utils import MISSING

if TYPE_CHECKING:
    from .server import FakeDiscord


class LoopbackOnlyResolver(AbstractResolver):
    """DNS resolver that resolves nothing: only IP literals (the fake's 127.0.0.1) are reachable.

    Any attempt to reach a host name (discord.com, cdn.discordapp.com ...) fails at once and is
    recorded in ``blocked``.
    """

    def __init__(self, blocked: list[str]) -> None:
        self.blocked = blocked

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.blocked.append(host)
        raise OSError(f"fake_discord blocked a connection to {host}:{port} (only 127.0.0.1 is allowed)")

    async def close(self) -> None:
        pass


class ErrorCapture(logging.Handler):
    """Collects ERROR records of the ``discord`` loggers (exceptions the library swallowed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> list[str]:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return [formatter.format(r) for r in self.records]


def stop_views(bot: discord.Client) -> None:
    """Stop every view the bot registered: ``Client.close()`` leaves their timeout tasks pending."""
    store = bot._connection._view_store
    views = {id(v): v for v in store._synced_message_views.values()}
    for items in store._views.values():
        views |= {id(item.view): item.view for item in items.values() if item.view is not None}
    for view in views.values():
        view.stop()


async def wait_ready(bot: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.is_ready():
        if task.done():
            task.result()  # re-raises LoginFailure & co.
            raise AssertionError("the bot stopped before it became ready")
        if loop.time() > deadline:
            raise AssertionError(f"the bot was not ready after {timeout}s")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def run_bot(
    fake: FakeDiscord, bot: discord.Client, *, ready_timeout: float, fast_ready: bool, raise_errors: bool
) -> AsyncIterator[discord.Client]:
    """See :meth:`FakeDiscord.run_bot`."""
    if fast_ready:
        state = bot._connection
        state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)
    if bot.http.connector is MISSING:  # discord.py creates its own otherwise; ours cannot leave 127.0.0.1
        bot.http.connector = aiohttp.TCPConnector(limit=0, resolver=LoopbackOnlyResolver(fake.blocked_hosts))
    capture = ErrorCapture()
    discord_log = logging.getLogger("discord")
    discord_log.addHandler(capture)
    task = asyncio.create_task(bot.start(fake.token), name="fake-discord-bot")
    fake.bot = bot
    task_error: BaseException | None = None
    try:
        await wait_ready(bot, task, ready_timeout)
        yield bot
    finally:
        fake.bot = None
        await bot.close()
        try:
            await asyncio.wait_for(task, 5.0)
        except Exception as exc:  # re-raised below unless the block itself is failing
            task_error = exc
        finally:
            discord_log.removeHandler(capture)
            stop_views(bot)
            await asyncio.sleep(0)  # let the cancelled view timeout tasks finish
    if task_error is not None:
        raise task_error
    problems = capture.describe()
    problems += [f"fake discord internal error: {e!r}" for e in fake.internal_errors]
    problems += [f"blocked network access to {host}" for host in fake.blocked_hosts]
    if raise_errors and problems:
        raise AssertionError("problems while the bot ran:\n" + "\n".join(problems))
