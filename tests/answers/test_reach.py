"""Questions about after the clock are declined: the news reports what has happened."""

from datetime import date

import pytest

from index.answers.reach import beyond_the_news

NOW = date(2023, 12, 31)


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("Who won the 2030 World Cup final?", "2030"),
        ("What is the weather tomorrow in Paris?", "tomorrow"),
        ("Who scores first in next week's derby?", "next week"),
        ("How did the markets close next Friday?", "next Friday"),
        ("Who will win the next Super Bowl?", "what is still to come"),
        ("What will the weather be like in Paris on Sunday?", "what is still to come"),
    ],
)
def test_questions_about_the_future_are_beyond_the_news(question: str, words: str) -> None:
    assert beyond_the_news(question, NOW) == words


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2023 Rugby World Cup?",
        "Where will the 2030 World Cup be held?",  # a plan announced is news
        "Which singer has a tour booked for next year?",
        "Is the Fed expected to cut rates in 2024?",
        "What did the judge rule about Donald Trump's real estate empire?",
        "How much did Coinbase shares rise, up $2024 since the low?",
    ],
)
def test_questions_about_the_past_or_plans_are_not(question: str) -> None:
    assert beyond_the_news(question, NOW) is None
