"""Members' votes, the question log and what each answer message was about (index/storage/feedback.py),
on both stores."""

from __future__ import annotations

import pytest

from index.storage import feedback


def test_feedback_and_question_stats(engine):
    store = engine.store
    feedback.record_feedback(store, message_id=1, user_id=2, question="q", vote=1)
    feedback.record_feedback(store, message_id=1, user_id=2, question="q", vote=-1)  # replaces
    feedback.record_feedback(store, message_id=1, user_id=3, question="q", vote=1)
    assert feedback.feedback_counts(store) == (1, 1)
    with pytest.raises(ValueError):
        feedback.record_feedback(store, message_id=1, user_id=2, question="q", vote=0)
    assert feedback.question_stats(store) == feedback.QuestionStats(0, 0, None, None, None)
    for i in range(1, 101):
        feedback.record_question(store, question=f"q{i}", abstained=i % 10 == 0, latency_ms=float(i))
    stats = feedback.question_stats(store)
    assert (stats.answered, stats.abstained) == (90, 10)
    assert (stats.p50_ms, stats.p90_ms, stats.p99_ms) == (50.0, 90.0, 99.0)


def test_answer_contexts_are_kept_replaced_and_bounded(engine):
    store = engine.store
    assert feedback.answer_context(store, 1) is None
    feedback.remember_answer(store, 1, {"question": "first", "cited": ["a"]}, keep=3)
    feedback.remember_answer(store, 1, {"question": "again", "cited": ["a", "b"]}, keep=3)  # replaces
    assert feedback.answer_context(store, 1) == {"question": "again", "cited": ["a", "b"]}
    for message_id in (2, 3, 4):
        feedback.remember_answer(store, message_id, {"question": f"q{message_id}"}, keep=3)
    assert feedback.answer_context(store, 1) is None  # the oldest is forgotten first
    assert [feedback.answer_context(store, m)["question"] for m in (2, 3, 4)] == ["q2", "q3", "q4"]
