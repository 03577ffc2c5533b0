"""Article titles and outlet names for autocomplete, cached briefly so suggestions come back at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Cached(Generic[T]):
    """A value loaded in a worker thread, reused for `ttl` seconds, reloaded on demand."""

    def __init__(self, load: Callable[[], T], ttl: float = 60.0):
        self._load = load
        self.ttl = ttl
        self._value: T | None = None
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()

    async def get(self) -> T:
        async with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at > self.ttl:
                self._value = await asyncio.to_thread(self._load)
                self._loaded_at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        self._loaded_at = -float("inf")
