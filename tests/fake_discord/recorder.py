"""What the fake saw: REST requests, interaction timings and visible bot messages, all awaitable."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class RecordedFile:
    """One uploaded file of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """A REST request the bot made. ``path`` has the ``/api/v10`` prefix stripped."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # JSON body, or the parsed ``payload_json`` part of a multipart body; None if neither
    files: list[RecordedFile]
    route: str | None  # matched route template, e.g. "/channels/{channel_id}/messages"; None if unknown
    at: float  # event-loop time the request arrived
    status: int = 0  # response status, 0 while the request is still being handled
    response: Any = None  # response JSON

    def __str__(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status or '...'}"


@dataclass
class InteractionRecord:
    """An interaction the fake dispatched, and how the bot answered it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float  # event-loop time the INTERACTION_CREATE was sent
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # callback bodies, in order
    first_callback_at: float | None = None
    original_message_id: int | None = None  # message behind ``@original``
    loading: bool = False  # a type-5 "thinking" message waits for its first followup/edit
    followup_ids: list[int] = field(default_factory=list)
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def callback_types(self) -> list[int]:
        return [c.get("type", 0) for c in self.callbacks]

    @property
    def ack_latency(self) -> float | None:
        """Seconds between dispatch and the first callback (``None`` while unacknowledged)."""
        return None if self.first_callback_at is None else self.first_callback_at - self.dispatched_at

    @property
    def autocomplete_choices(self) -> list[dict[str, Any]] | None:
        for cb in self.callbacks:
            if cb.get("type") == 8:
                return cb.get("data", {}).get("choices", [])
        return None

    async def wait_acknowledged(self, timeout: float = 5.0) -> float:
        """Wait for the first callback; returns :attr:`ack_latency`."""
        try:
            await asyncio.wait_for(self.acknowledged.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"interaction {self.id} was not acknowledged within {timeout}s") from None
        assert self.ack_latency is not None
        return self.ack_latency


class Feed(Generic[T]):
    """An append-only list whose items can be awaited and *claimed*.

    ``wait`` returns the oldest unclaimed item that matches and marks it claimed, so waiting
    twice for the same kind of thing returns two different items, in order of arrival.
    """

    def __init__(self, describe: Callable[[T], str] = str) -> None:
        self.items: list[T] = []
        self._ready: list[bool] = []  # an item is visible to ``wait`` once ready
        self._claimed: set[int] = set()
        self._changed = asyncio.Event()
        self._describe = describe

    def add(self, item: T, *, ready: bool = True) -> int:
        self.items.append(item)
        self._ready.append(ready)
        if ready:
            self._notify()
        return len(self.items) - 1

    def mark_ready(self, index: int) -> None:
        self._ready[index] = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _take(self, match: Callable[[T], bool], claim: bool) -> T | None:
        for i, item in enumerate(self.items):
            if self._ready[i] and i not in self._claimed and match(item):
                if claim:
                    self._claimed.add(i)
                return item
        return None

    async def wait(self, match: Callable[[T], bool], *, timeout: float, claim: bool, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := self._take(match, claim)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n  ".join(self._describe(i) for i in self.items) or "(nothing)"
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; seen so far:\n  {seen}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return found


def request_matcher(
    method: str | None, path: str | re.Pattern[str], predicate: Callable[[RecordedRequest], bool] | None
) -> Callable[[RecordedRequest], bool]:
    """Match on method (``None``/``"*"`` = any), ``path`` regex (full match) and an optional predicate."""
    pattern = re.compile(path) if isinstance(path, str) else path

    def match(req: RecordedRequest) -> bool:
        return (
            (method in (None, "*") or req.method == method.upper())
            and pattern.fullmatch(req.path) is not None
            and (predicate is None or predicate(req))
        )

    return match
