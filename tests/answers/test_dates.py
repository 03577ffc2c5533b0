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


def test_a_day_of_a_month_is_not_the_whole_month() -> None:
    # the date of one report among several compared ("the piece from November 27, 2023") filters nothing
    question = "Did the piece from November 27, 2023 agree with the one of October 4?"
    found, rest = parse_dates(question, WEDNESDAY)
    assert not found.active
    assert "November 27, 2023" in rest


def test_an_outlet_name_is_not_a_date(small_engine) -> None:
    from index.answers.plan import make_plan
    from index.models import ArticleDraft

    small_engine.ingest_items([ArticleDraft(
        "Markets in Mumbai fell sharply on Friday after the central bank kept its rates unchanged.",
        "bt-1", "Mumbai markets fall", "Business Today", "https://bt.example/markets", "2024-03-08",
    )])  # fmt: skip
    plan = make_plan(small_engine, "What did Business Today say about markets in Mumbai?", now="2024-03-13")
    assert plan.sources == ("Business Today",)
    assert (plan.since, plan.until) == (None, None)


def test_a_period_without_news_dates_the_event_not_the_articles(small_engine) -> None:
    from index.answers.plan import make_plan

    plan = make_plan(small_engine, "Which tram line closed in 2019?", now="2024-03-13")
    assert (plan.since, plan.until) == (None, None)
    assert "2019" in plan.query
    # a question about nothing but the period keeps it as a filter, and is told nothing was published
    plan = make_plan(small_engine, "What happened in 2019?", now="2024-03-13")
    assert (plan.since, plan.until) == ("2019-01-01", "2019-12-31")
    # a period that holds news stays a filter
    plan = make_plan(small_engine, "What did the council approve in March?", now="2024-03-13")
    assert (plan.since, plan.until) == ("2024-03-01", "2024-03-13")
