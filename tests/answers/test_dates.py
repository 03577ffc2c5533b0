"""Relative dates in questions become date filters, relative to a fixed clock."""

from datetime import date

import pytest

from index.answers.dates import intersect, parse_dates

WEDNESDAY = date(2024, 3, 13)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened today in Paris?", "2024-03-13", "2024-03-13"),
        ("What did the council decide yesterday?", "2024-03-12", "2024-03-12"),
        ("Any news about buses this week?", "2024-03-11", "2024-03-13"),
        ("What happened to the budget last week?", "2024-03-04", "2024-03-10"),
        ("Which phones launched last month?", "2024-02-01", "2024-02-29"),
        ("What has the mayor said since Monday?", "2024-03-11", "2024-03-13"),
        ("What did the council decide in March?", "2024-03-01", "2024-03-13"),
        ("What did the council decide in October?", "2023-10-01", "2023-10-31"),
        ("Who won the election in 2023?", "2023-01-01", "2023-12-31"),
        ("What happened in October 2023 in Gaza?", "2023-10-01", "2023-10-31"),
        ("Any layoffs in the past 3 days?", "2024-03-11", "2024-03-13"),
        ("What happened this month?", "2024-03-01", "2024-03-13"),
        ("What happened last year in tech?", "2023-01-01", "2023-12-31"),
        ("Anything on trade since February 20?", "2024-02-20", None),
    ],
)
def test_relative_dates_become_filters(question: str, since: str, until: str | None) -> None:
    found, rest = parse_dates(question, WEDNESDAY)
    assert (found.since, found.until) == (since, until)
    assert found.phrase and found.phrase not in rest


def test_a_question_without_dates_has_no_filter() -> None:
    found, rest = parse_dates("What did the judge rule about Donald Trump?", WEDNESDAY)
    assert not found.active
    assert rest == "What did the judge rule about Donald Trump?"


def test_may_as_a_verb_is_not_a_month() -> None:
    found, _ = parse_dates("What drugs in may cause stomach problems?", WEDNESDAY)
    assert not found.active
    found, _ = parse_dates("What happened in May?", WEDNESDAY)
    assert (found.since, found.until) == ("2023-05-01", "2023-05-31")


@pytest.mark.parametrize("question", ["What is the latest on the FTX trial?", "Recent news about Ozempic?"])
def test_latest_and_recent_prefer_recent_articles(question: str) -> None:
    found, _ = parse_dates(question, WEDNESDAY)
    assert found.prefer_recent
    assert not found.active


def test_caller_filters_and_question_dates_intersect() -> None:
    assert intersect("2024-03-01", "2024-03-11", later=True) == "2024-03-11"
    assert intersect("2024-03-20", "2024-03-13", later=False) == "2024-03-13"
    assert intersect(None, "2024-03-13", later=False) == "2024-03-13"
