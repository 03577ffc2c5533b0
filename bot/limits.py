"""A per-member cooldown and a global cap on questions answered at once.

Both refuse with `Busy` (and how long to wait) rather than queueing: a member told "try again in 5 s"
is better served than one left staring at "thinking…" behind a long queue.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
    ):
        self.rate = rate
        self.window = window
        self.max_concurrent = max_concurrent
        self.clock = clock
        self.on_refused = on_refused  # (the engine's metrics count refusals)
        self.active = 0
        self._asked: defaultdict[int, deque[float]] = defaultdict(deque)
        self._durations: deque[float] = deque(maxlen=20)

    def _recent(self, user_id: int, now: float) -> deque[float]:
        asked = self._asked[user_id]
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        return asked

    def check(self, user_id: int) -> None:
        """Raise `Busy` if this member must wait or every slot is taken."""
        try:
            self._check(user_id)
        except Busy:
            if self.on_refused is not None:
                self.on_refused()
            raise

    def _check(self, user_id: int) -> None:
        now = self.clock()
        asked = self._recent(user_id, now)
        if len(asked) >= self.rate:
            raise Busy(asked[0] + self.window - now, "cooldown")
        if self.active >= self.max_concurrent:
            raise Busy(self._typical_duration(), "busy")

    def _typical_duration(self) -> float:
        if not self._durations:
            return 5.0
        return sorted(self._durations)[len(self._durations) // 2]

    @contextmanager
    def slot(self, user_id: int) -> Iterator[None]:
        """Hold one of the concurrent slots for a question by `user_id` (checked first)."""
        self.check(user_id)
        started = self.clock()
        self._asked[user_id].append(started)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self._durations.append(self.clock() - started)
