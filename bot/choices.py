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


K = TypeVar("K")


class CachedBy(Generic[K, T]):
    """One `Cached` value per key (a viewer: each server sees its own titles and outlets), the most
    recently used `size` kept."""

    def __init__(self, load: Callable[[K], T], ttl: float = 60.0, size: int = 256):
        self._load, self.ttl, self.size = load, ttl, size
        self._values: dict[K, Cached[T]] = {}

    async def get(self, key: K) -> T:
        cached = self._values.pop(key, None) or Cached(lambda: self._load(key), self.ttl)
        self._values[key] = cached  # (most recent last)
        while len(self._values) > self.size:
            self._values.pop(next(iter(self._values)))
        return await cached.get()

    def invalidate(self) -> None:
        for cached in self._values.values():
            cached.invalidate()
