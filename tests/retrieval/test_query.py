"""Question parsing: the outlets and dates a question names (index/retrieval/query.py)."""

from __future__ import annotations

from index.retrieval.outlets import find_outlets, outlet_aliases
from index.retrieval.query import find_dates, parse_query

OUTLETS = [
    "TechCrunch",
    "The Verge",
    "Fortune",
    "The Age",
    "Sporting News",
    "CBSSports.com",
    "FOX News - Health",
    "FOX News - Lifestyle",
    "The Independent - Sports",
    "The Independent - Travel",
    "Cnbc | World Business News Leader",
    "Wired",
]


def outlets_in(text: str) -> tuple[str, ...]:
    return parse_query(text, OUTLETS).outlets


def test_outlets_in_order_of_mention():
    q = "As reported by both CBSSports.com and Sporting News, and later by TechCrunch's team?"
    assert outlets_in(q) == ("CBSSports.com", "Sporting News", "TechCrunch")


def test_outlet_names_with_inner_capitals_match_in_any_case():
    assert outlets_in("what did techcrunch say about openai") == ("TechCrunch",)
    assert outlets_in("scores on cbssports.com") == ("CBSSports.com",)


def test_ordinary_words_only_count_when_capitalised():
    assert outlets_in("in the age of AI, fortune favours the wired") == ()
    assert outlets_in("Did The Age and Fortune agree, while Wired disagreed?") == (
        "The Age",
        "Fortune",
        "Wired",
    )
    assert outlets_in("The age of AI") == ()


def test_leading_the_is_optional():
    assert outlets_in("Did the Verge review it?") == ("The Verge",)
    assert outlets_in("According to Verge reviewers") == ("The Verge",)
    # a short name keeps its "The"
    assert outlets_in("Age of empires: did The Verge review it?") == ("The Verge",)


def test_section_names_and_their_outlet():
    assert outlet_aliases("FOX News - Health") == ["FOX News - Health", "FOX News"]
    assert outlet_aliases("CBSSports.com") == ["CBSSports.com", "CBSSports"]
    # the full section name means that section only
    assert outlets_in("Does 'FOX News - Health' say so?") == ("FOX News - Health",)
    # the outlet alone means every section of it
    assert outlets_in("Did The Independent report it?") == (
        "The Independent - Sports",
        "The Independent - Travel",
    )
    assert outlets_in("on CNBC yesterday") == ("Cnbc | World Business News Leader",)


def test_no_match_inside_longer_words():
    assert outlets_in("the Fortune500 list and TechCrunchy puns") == ()


def test_mentions_have_offsets():
    text = "Was it The Verge?"
    [mention] = find_outlets(text, OUTLETS)
    assert text[mention.start : mention.end] == "The Verge"


def test_days_in_common_formats():
    text = "On October 7, 2023, then Oct. 13th 2023, 2 November 2023 and 2023-12-15."
    assert [d.iso for d in find_dates(text)] == ["2023-10-07", "2023-10-13", "2023-11-02", "2023-12-15"]
    assert parse_query(text).days == ("2023-10-07", "2023-10-13", "2023-11-02", "2023-12-15")


def test_months_and_invalid_dates():
    assert [d.iso for d in find_dates("published in September 2023")] == ["2023-09"]
    assert find_dates("on February 30, 2023") == []
    assert find_dates("in May") == []  # no year: not a date we can use
    assert parse_query("in September 2023").days == ()


def test_after_before_and_between():
    q = parse_query("What was reported after October 2023 but before December 15, 2023?")
    assert [d.relation for d in q.dates] == ["after", "before"]
    assert (q.since, q.until) == ("2023-11-01", "2023-12-15")
    q = parse_query("Between the report on October 1, 2023 and the one on October 20, 2023, what changed?")
    assert (q.since, q.until) == ("2023-10-01", "2023-10-20")
    q = parse_query("Did TechCrunch on October 7, 2023 and Fortune on October 9, 2023 agree?")
    assert [d.relation for d in q.dates] == [None, None]
    assert (q.since, q.until) == (None, None)


def test_plain_question():
    q = parse_query("who won the match", OUTLETS)
    assert (q.outlets, q.dates, q.since, q.until) == ((), (), None, None)


def test_between_two_months():
    q = parse_query("Between 7 October 2023 and December 2023, did it change?")
    assert [d.relation for d in q.dates] == ["after", "before"]
    assert (q.since, q.until) == ("2023-10-07", "2023-12-01")


def test_search_text_without_the_mentions():
    from index.retrieval.search import _without_mentions

    q = parse_query("Did TechCrunch report on October 7, 2023 that OpenAI raised money?", OUTLETS)
    assert " ".join(_without_mentions(q).split()) == "Did report on that OpenAI raised money?"
