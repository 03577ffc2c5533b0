"""The background rounds of the bot (new stories, topic alerts, scheduled digests): one shape for all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def repeat(
    round_: Callable[[], Awaitable[object]],
    *,
    every: float,
    what: str,
    due: asyncio.Event | None = None,
    failed: Callable[[], None] | None = None,
) -> None:
    """Run `round_` now, then every `every` seconds or as soon as `due` is set, until cancelled. A round
    that fails (say, the database is locked) is logged and tried again at the next turn, never ends it."""
    due = due or asyncio.Event()
    while True:
        try:
            await round_()
        except Exception:
            log.exception("%s failed", what)
            if failed is not None:
                failed()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(due.wait(), every)
        due.clear()
