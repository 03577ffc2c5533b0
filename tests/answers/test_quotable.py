"""Answers never quote questions nor the page talking to its reader (promotion, navigation), and keep
statements that merely mention such words."""

import pytest

from index.answers.quotable import is_call_to_action, is_question, quotable


@pytest.mark.parametrize(
    "text",
    [
        "Who is Sam Bankman-Fried, the former CEO of crypto exchange FTX?",
        "Is Google Search better than the rest?",
        "Founders, are events useful?”",
        "What does it mean for the markets?",
    ],
)
def test_questions_are_not_quoted(text: str) -> None:
    assert is_question(text)
    assert not quotable(text)


@pytest.mark.parametrize(
    "text",
    [
        "Watch all the action from Rugby World Cup 2023 on the home of rugby, Stan Sport.",
        "Scroll down for video.",
        "Sign up for our daily newsletter to get the latest headlines.",
        "Sign up here to get it in your inbox every Friday.",
        "Click here to read more stories in this series.",
        "Subscribe to our cricket newsletter for our writers' thoughts.",
        "Follow us on Instagram for the latest updates.",
        "Download the Guardian app from the App Store.",
        "Stream every match live on Kayo.",
        "Don't miss the highlights on our YouTube channel.",
        "Get a free $10 deposit when you use promo code TSN!",
        "Claim $5,000 in sports betting bonuses with these promo codes and links.",
        "Read our full review of the Pixel 8.",
        "Be sure to check out our guides to the best TVs.",
        "This story originally appeared in Wired.",
        "Musk has created a fundamental issue. https://t.co/T70G2oNDZH — Eliot Higgins (@EliotHiggins)",
    ],
)
def test_promotion_and_navigation_are_not_quoted(text: str) -> None:
    assert is_call_to_action(text)
    assert not quotable(text)


@pytest.mark.parametrize(
    "text",
    [
        "Sam Bankman-Fried was found guilty of seven criminal fraud counts on Thursday.",
        "A whopping 97% of kids use their phones during school hours, a study found.",
        "Millions watched the final on television, the broadcaster said.",
        "Viewers in Canada can sign up for DAZN, which carries NFL Game Pass.",
        "About 615 million people are expected to sign up for mobile services by 2025.",
        "He asked, “Why now?” and left the room.",
        "“Watch your step,” the guide told the group on the glacier.",
        "Read the room, investors say, before pitching a fund in this market.",
        "Head coach Sean Payton elected to kick the field goal on Minnesota's 12-yard line.",
        "Like so many things in this trial, the star witness was kept under wraps.",
    ],
)
def test_statements_are_quoted(text: str) -> None:
    assert quotable(text)
