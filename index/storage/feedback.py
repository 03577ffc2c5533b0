"""Members' 👍/👎 on answers, a log of questions asked (for /stats), and what each answer message
was about (so its buttons work after a restart), kept in SQLite.

Small functions over the store's connection and lock; the tables come from migrations m002 and m005.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from .store import Store


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def record_feedback(
    store: Store, *, message_id: int | str, user_id: int | str, question: str, vote: int
) -> None:
    """One vote (+1 or -1) per member per answer: a second vote replaces the first."""
    if vote not in (1, -1):
        raise ValueError("vote must be +1 or -1")
    with store.write():
        store.db.execute(
            "DELETE FROM feedback WHERE message_id = ? AND user_id = ?", [str(message_id), str(user_id)]
        )
        store.db.execute(
            "INSERT INTO feedback (message_id, user_id, question, vote, created_at) VALUES (?, ?, ?, ?, ?)",
            [str(message_id), str(user_id), question, vote, _now()],
        )


ANSWERS_KEPT = 100_000  # answer messages remembered; the oldest are forgotten first


def remember_answer(store: Store, message_id: int | str, context: dict, *, keep: int = ANSWERS_KEPT) -> None:
    """Keep what an answer message was about (any JSON-able dict), replacing an earlier record."""
    with store.write():
        cursor = store.db.execute(
            "INSERT OR REPLACE INTO answer_messages (message_id, context, created_at) VALUES (?, ?, ?)",
            [str(message_id), json.dumps(context), _now()],
        )
        store.db.execute("DELETE FROM answer_messages WHERE rowid <= ?", [cursor.lastrowid - keep])


def answer_context(store: Store, message_id: int | str) -> dict | None:
    """What `remember_answer` kept for this message, or None."""
    with store.lock:
        row = store.db.execute(
            "SELECT context FROM answer_messages WHERE message_id = ?", [str(message_id)]
        ).fetchone()
    return json.loads(row[0]) if row else None


def feedback_counts(store: Store) -> tuple[int, int]:
    """(thumbs up, thumbs down) over all answers."""
    with store.lock:
        row = store.db.execute(
            "SELECT count(*) FILTER (WHERE vote = 1), count(*) FILTER (WHERE vote = -1) FROM feedback"
        ).fetchone()
    return int(row[0]), int(row[1])


def record_question(store: Store, *, question: str, abstained: bool, latency_ms: float) -> None:
    with store.lock:
        store.db.execute(
            "INSERT INTO questions (asked_at, question, abstained, latency_ms) VALUES (?, ?, ?, ?)",
            [_now(), question, int(abstained), float(latency_ms)],
        )


@dataclass(frozen=True)
class QuestionStats:
    answered: int
    abstained: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, round(fraction * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def question_stats(store: Store) -> QuestionStats:
    """Questions answered and abstained, and answer latency percentiles (milliseconds)."""
    with store.lock:
        rows = store.db.execute("SELECT abstained, latency_ms FROM questions").fetchall()
    latencies = sorted(r[1] for r in rows if r[1] is not None)
    abstained = sum(1 for r in rows if r[0])
    return QuestionStats(
        answered=len(rows) - abstained,
        abstained=abstained,
        p50_ms=_percentile(latencies, 0.50),
        p90_ms=_percentile(latencies, 0.90),
        p99_ms=_percentile(latencies, 0.99),
    )


class Feedback:
    """The feedback tables of one store, as the engine hands them to the bot."""

    def __init__(self, store: Store):
        self.store = store

    def record_feedback(self, *, message_id: int | str, user_id: int | str, question: str, vote: int) -> None:
        record_feedback(self.store, message_id=message_id, user_id=user_id, question=question, vote=vote)

    def remember_answer(self, message_id: int | str, context: dict) -> None:
        remember_answer(self.store, message_id, context)

    def answer_context(self, message_id: int | str) -> dict | None:
        return answer_context(self.store, message_id)

    def feedback_counts(self) -> tuple[int, int]:
        return feedback_counts(self.store)

    def record_question(self, *, question: str, abstained: bool, latency_ms: float) -> None:
        record_question(self.store, question=question, abstained=abstained, latency_ms=latency_ms)

    def question_stats(self) -> QuestionStats:
        return question_stats(self.store)
