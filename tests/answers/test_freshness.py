"""When an answer says "as of …": questions about recent news, or news held that is over a day old."""

from __future__ import annotations

import datetime as dt

import pytest

from index.answers.freshness import as_of, asks_about_recent

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
POLLED = "2026-12-02T11:45:00+00:00"


@pytest.mark.parametrize(
    "question",
    [
        "What's the latest on the strike?",
        "any news about Ozempic today",
        "Is the bridge still closed?",
        "what happened this week in Lagos",
        "updates on the election",
    ],
)
def test_questions_about_recent_news_say_as_of_even_when_the_news_is_fresh(question):
    assert asks_about_recent(question)
    assert as_of(question, newest="2026-12-02T11:00:00+00:00", updated=POLLED, now=NOW) == POLLED


@pytest.mark.parametrize(
    "question", ["What did the study find about jellyfish?", "Who is the new mayor of York?"]
)
def test_other_questions_about_fresh_news_say_nothing(question):
    assert not asks_about_recent(question)
    assert as_of(question, newest="2026-12-02T08:00:00+00:00", updated=POLLED, now=NOW) is None
    assert as_of(question, newest="2026-12-02", updated=POLLED, now=NOW) is None  # a bare date: that day


def test_news_held_older_than_a_day_is_always_dated():
    question = "What did the study find about jellyfish?"
    assert as_of(question, newest="2026-11-30T09:00:00+00:00", updated=POLLED, now=NOW) == POLLED
    assert as_of(question, newest="2026-11-30", updated=POLLED, now=NOW) == POLLED
    assert as_of(question, newest=None, updated=POLLED, now=NOW) == POLLED  # nothing dated at all


def test_nothing_is_said_when_nothing_was_ever_updated():
    assert as_of("latest news?", newest=None, updated=None, now=NOW) is None
