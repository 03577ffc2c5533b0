"""Outlets named in a question are matched against the outlets in the store."""

import pytest

from index.answers.outlets import find_outlets

STORE = [
    "The Verge",
    "TechCrunch",
    "The Age",
    "Fortune",
    "CBSSports.com",
    "Sporting News",
    "Cnbc | World Business News Leader",
    "FOX News - Health",
    "FOX News - Lifestyle",
    "The Guardian",
]


@pytest.mark.parametrize(
    ("question", "outlets"),
    [
        ("According to The Verge, what happened at the FTX trial?", ("The Verge",)),
        ("according to the verge, what happened at the FTX trial?", ("The Verge",)),
        ("What was reported by TechCrunch about Amazon?", ("TechCrunch",)),
        ("What did techcrunch write about Amazon?", ("TechCrunch",)),
        (
            "Who is the top receiver according to CBSSports.com and Sporting News?",
            ("CBSSports.com", "Sporting News"),
        ),
        ("What did CNBC say about Coinbase?", ("Cnbc | World Business News Leader",)),
        ("What did The Age report about Google?", ("The Age",)),
        ("What does Fox News say about the flu?", ("FOX News - Health", "FOX News - Lifestyle")),
        ("What did the Guardian write about Bayern?", ("The Guardian",)),
    ],
)
def test_named_outlets_are_found(question: str, outlets: tuple[str, ...]) -> None:
    found = find_outlets(question, STORE)
    assert found.outlets == outlets
    assert "according" not in found.rest.lower()


@pytest.mark.parametrize(
    "question",
    ["Is the age of AI here?", "Will good fortune last for investors?", "What is on the verge of collapse?"],
)
def test_ordinary_words_are_not_outlets(question: str) -> None:
    found = find_outlets(question, STORE)
    assert found.outlets == ()
    assert found.rest == question


def test_the_outlet_words_are_removed_from_the_query() -> None:
    found = find_outlets("According to The Verge, what did Apple announce?", STORE)
    assert found.rest == ", what did Apple announce?"
