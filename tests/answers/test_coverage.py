"""Choosing the sentences that summarize a text: coverage with a lead prior, and what is never quoted."""

from __future__ import annotations

import numpy as np

from index.answers.coverage import select, states_figure, summarizable
from tests.answers.conftest import axis, unit


def test_each_point_covers_another_part_of_the_text() -> None:
    # Two sentences on subject 0, then five on subject 1 and five on subject 2: Lead-3 takes two
    # sentences on subject 0, coverage one of each subject (the earliest of each).
    vectors = np.stack([unit(axis(0))] * 2 + [unit(axis(1))] * 5 + [unit(axis(2))] * 5)
    chosen = select(vectors, max_points=3)
    assert sorted(chosen) == [0, 2, 7]


def test_the_lead_wins_between_sentences_that_cover_as_much() -> None:
    vectors = np.stack([unit(axis(i % 2)) for i in range(8)])
    assert select(vectors, max_points=2) == [0, 1]


def test_of_two_sentences_that_cover_as_much_the_much_shorter_one_is_chosen() -> None:
    # sentences 1 and 2 say the same (subject 1); 1 comes first but runs to 55 words, 2 has 12
    vectors = np.stack([unit(axis(0)), unit(axis(1)), unit(axis(1)), unit(axis(2))])
    assert sorted(select(vectors, max_points=2)) == [0, 1]
    assert sorted(select(vectors, max_points=2, lengths=[20, 55, 12, 20])) == [0, 2]


def test_a_budget_skips_sentences_that_do_not_fit() -> None:
    vectors = np.stack([unit(axis(i)) for i in range(4)])
    chosen = select(vectors, max_points=3, costs=[50, 500, 50, 50], budget=200)
    assert 1 not in chosen and len(chosen) == 3
    assert select(np.zeros((0, 8)), max_points=3) == []


def test_questions_promotions_and_run_ons_are_never_points() -> None:
    assert summarizable("Epic Games fired roughly 830 people this year, or 16 percent of its staff.")
    assert not summarizable("Who is Sam Bankman-Fried, the former CEO of crypto exchange FTX?")
    assert not summarizable("'Do you follow my topic?'")
    assert not summarizable("Scroll down for video The council voted to ban gas leaf blowers on Monday.")
    assert not summarizable("Watch all the action from Rugby World Cup 2023 on the home of rugby, Stan.")
    assert not summarizable("Sign up for our newsletter to get the best stories every morning.")
    assert not summarizable("A version of this post first appeared in TechCrunch's robotics newsletter.")
    assert not summarizable(" ".join(["word"] * 61) + ".")


def test_a_figure_is_a_number_that_is_not_a_date_or_a_span() -> None:
    assert states_figure("Epic Games fired roughly 830 people this year.")
    assert states_figure("EA culled an estimated 1,130 jobs in 2023.")
    assert states_figure("a $69 billion deal")
    assert not states_figure("In 2023, the main factors were consolidation and layoffs.")
    assert not states_figure("approved on October 12, 2023 after nearly two years")
    assert not states_figure("The industry has shapeshifted over the past 12 months.")
