"""A per-member cooldown and a global cap on questions answered at once.

Both refuse with `Busy` (and how long to wait) rather than queueing: a member told "try again in 5 s"
is better served than one left staring at "thinking…" behind a long queue.

The cooldown is this process's own, or, with `turns` (NEWSBOT_SHARED_LIMITS, for several bot
processes on one store), kept in the store so every process counts a member's turns together
(index/storage/member_limits.py), checked off the event loop. The cap on questions at once stays per
process: it protects this process's CPU.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)

# (member, rate, window) -> None when the member's turn was recorded, else the seconds to wait.
Turns = Callable[[int, int, float], float | None]


class Busy(Exception):
    """The question was refused for now; `retry_after` is in seconds."""

    def __init__(self, retry_after: float, reason: str):
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class QuestionLimiter:
    """`rate` questions per member per `window` seconds, and at most `max_concurrent` at once."""

    def __init__(
        self,
        *,
        rate: int,
        window: float,
        max_concurrent: int,
        clock: Callable[[], float] = time.monotonic,
        on_refused: Callable[[], None] | None = None,
        turns: Turns | None = None,
    ):
        self.rate = rate
        self.window = window
        self.max_concurrent = max_concurrent
        self.clock = clock
        self.on_refused = on_refused  # (the engine's metrics count refusals)
        self.turns = turns
        self.active = 0
        self._asked: defaultdict[int, deque[float]] = defaultdict(deque)
        self._durations: deque[float] = deque(maxlen=20)

    def _recent(self, user_id: int, now: float) -> deque[float]:
        asked = self._asked[user_id]
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        return asked

    def check(self, user_id: int) -> None:
        """Raise `Busy` if this member must wait (by this process's count) or every slot is taken."""
        try:
            self._check_cooldown(user_id)
            self._check_free()
        except Busy:
            self._refused()
            raise

    def _check_cooldown(self, user_id: int) -> None:
        now = self.clock()
        asked = self._recent(user_id, now)
        if len(asked) >= self.rate:
            raise Busy(asked[0] + self.window - now, "cooldown")

    def _check_free(self) -> None:
        if self.active >= self.max_concurrent:
            raise Busy(self._typical_duration(), "busy")

    def _refused(self) -> None:
        if self.on_refused is not None:
            self.on_refused()

    def _typical_duration(self) -> float:
        if not self._durations:
            return 5.0
        return sorted(self._durations)[len(self._durations) // 2]

    async def _take_turn(self, user_id: int) -> None:
        """Count a turn of `user_id` (in the store when shared); Busy if they must wait."""
        if self.turns is not None:
            try:
                wait = await asyncio.to_thread(self.turns, user_id, self.rate, self.window)
            except Exception:  # the store is unwell: this process's own count still limits
                log.warning("shared member limits unavailable; counting in this process", exc_info=True)
            else:
                if wait is not None:
                    raise Busy(wait, "cooldown")
                return
        self._check_cooldown(user_id)
        self._asked[user_id].append(self.clock())

    @asynccontextmanager
    async def slot(self, user_id: int) -> AsyncIterator[None]:
        """Hold one of the concurrent slots for a question by `user_id` (checked first)."""
        try:
            self._check_free()
            self.active += 1  # (taken before the shared check awaits: no other question slips in)
        except Busy:
            self._refused()
            raise
        try:
            await self._take_turn(user_id)
        except Busy:
            self.active -= 1
            self._refused()
            raise
        except BaseException:
            self.active -= 1
            raise
        started = self.clock()
        try:
            yield
        finally:
            self.active -= 1
            self._durations.append(self.clock() - started)
