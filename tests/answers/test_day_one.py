"""Day-one questions a new member asks on the bundled news, with the real model: what the news cannot
answer is declined (with the closest articles), and for what it can, the first quoted sentence holds the
answer. No answer quotes a question or a line of promotion."""

from __future__ import annotations

import pytest

from index.answers import answer
from index.answers.quotable import quotable
from tests.answers.test_answers_news import assert_well_cited

pytestmark = pytest.mark.model

NOW = "2023-12-31"

DECLINED = [
    "Who won the 2030 World Cup final?",  # the future, though the news holds World Cups
    "What is the weather tomorrow in Paris?",  # a forecast, though the news holds Paris and weather
    "Who will win the next Super Bowl?",
    "How tall is the Eiffel Tower?",  # general knowledge
    # names and words the news holds, but not together: no sentence is about what the question asks
    "What is the weather in Paris?",  # a film set in Paris, the Paris accord, Seattle's weather
    "What did Taylor Swift say about Travis Kelce?",  # the news names each, in other stories
    "What did Joe Biden say about Sam Bankman-Fried?",
    "What time is it in Tokyo?",  # a film review set in post-war Tokyo
]
# Short questions the news answers, some with few words in common with the answer: not declined.
ANSWERED = [
    "What is Deft building?",
    "Who is starting at quarterback for the Browns?",
    "What happened to the Virginia woman who got the flu?",
    "What did Don McLean say about Silent Night?",
    "Why did Amazon's iRobot purchase face scrutiny in the EU?",
    "Which NASCAR drivers were snubbed by Autosport?",
]

# (question, words the first quoted sentence must hold)
FIRST_HOLDS = [
    ("Did Sam Bankman-Fried get convicted?", "found guilty of seven criminal fraud counts"),
    ("What share of kids use their phones during school hours?", "97%"),
    ("Who bought Psagot?", "Rani Zim"),
    ("Which drug was tied to Matthew Perry's death?", "ketamine"),
    ("By what score did Eintracht Frankfurt beat Bayern Munich?", "5-1"),
    ("What did a judge rule about Donald Trump's real estate empire?", "committed fraud"),
]


@pytest.mark.parametrize("question", DECLINED)
def test_what_the_news_cannot_answer_is_declined_with_the_closest_articles(news_engine, question) -> None:
    result = answer(news_engine, question, now=NOW)
    assert result.abstained, result.text
    assert result.points == () and result.citations == ()
    assert "couldn't find" in result.text
    assert result.related, "the closest articles are listed"


@pytest.mark.parametrize(("question", "expected"), FIRST_HOLDS)
def test_the_first_quoted_sentence_holds_the_answer(news_engine, question, expected) -> None:
    result = answer(news_engine, question, now=NOW)
    assert not result.abstained, result.text
    first = next(c for c in result.citations if c.n == result.points[0].citations[0])
    assert expected in first.excerpt, result.text
    assert result.text.startswith(result.points[0].text)
    assert_well_cited(news_engine, result)
    assert all(quotable(c.excerpt) for c in result.citations), result.text


def test_a_question_in_the_article_is_never_quoted(news_engine) -> None:
    # Fortune's SBF article opens its body with "Who is Sam Bankman-Fried, the former CEO of ...?"
    result = answer(news_engine, "Who is Sam Bankman-Fried?", now=NOW)
    assert not any(c.excerpt.rstrip().endswith("?") for c in result.citations), result.text


def test_a_future_question_says_why_it_is_declined(news_engine) -> None:
    result = answer(news_engine, "Who won the 2030 World Cup final?", now=NOW)
    assert "2030" in result.text and "already happened" in result.text


@pytest.mark.parametrize("question", ANSWERED)
def test_a_short_question_the_news_answers_is_not_declined(news_engine, question) -> None:
    result = answer(news_engine, question, now=NOW)
    assert not result.abstained, result.text
    assert_well_cited(news_engine, result)


def test_the_quick_start_answer_quotes_only_the_ruling(news_engine) -> None:
    # the SBF trial's "Here's what happened on the second day of the trial, ..." is as close to the
    # question as the second excerpt on the ruling, and names no one the question names
    result = answer(news_engine, "What did the judge rule about Donald Trump and the banks?", now=NOW)
    assert not result.abstained, result.text
    assert {c.title for c in result.citations} == {
        "Donald Trump defrauded banks with 'fantasy' to build his real estate empire, judge rules in a"
        " major repudiation against the former president"
    }, result.text
    assert "Bankman-Fried" not in result.text
