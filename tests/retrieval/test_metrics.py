"""The benchmark's retrieval metrics on small hand-computed cases (index/retrieval/evaluation.py)."""

from __future__ import annotations

import pytest

from index.retrieval.evaluation import mean_scores, percentile, score_query, squash, summarise

FACT_A = "The council approved the terminal."
FACT_B = "Revenue rose 35 percent."
FACT_C = "Rovers won the title."
OTHER = "Nothing relevant here."


def test_squash_removes_only_spaces_and_newlines():
    assert squash(" a b\nc \n d ") == "abcd"
    assert squash("a\tb\rc") == "a\tb\rc"  # tabs and carriage returns stay, as in the benchmark
    assert squash("A.B") == "A.B"  # case and punctuation stay


def test_match_ignores_spaces_and_newlines_on_both_sides():
    passage = "Intro.  The council\napproved   the terminal. More."
    assert score_query([passage], [FACT_A]).hits10 == 1.0
    # a different line break or spacing inside the fact still matches
    assert score_query(["Thecouncilapprovedthe terminal."], ["The council approved\nthe terminal."]).rr == 1.0


def test_match_is_case_and_punctuation_sensitive():
    assert score_query(["the council approved the terminal."], [FACT_A]).hits10 == 0.0
    assert score_query(["The council approved the terminal"], [FACT_A]).hits10 == 0.0  # no final period


def test_partial_fact_does_not_match():
    assert score_query(["The council approved"], [FACT_A]).first_rank is None


def test_first_match_at_rank_3_of_two_facts():
    s = score_query([OTHER, OTHER, FACT_A, OTHER], [FACT_A, FACT_B])
    assert (s.hits4, s.hits10, s.first_rank) == (1.0, 1.0, 3)
    assert s.rr == pytest.approx(1 / 3)
    assert s.ap == pytest.approx((1 / 3) / 2)  # one fact at rank 3, two facts


def test_hits4_versus_hits10():
    s = score_query([OTHER] * 4 + [FACT_B], [FACT_B])
    assert (s.hits4, s.hits10, s.rr, s.ap) == (0.0, 1.0, 0.2, 0.2)
    s = score_query([OTHER] * 3 + [FACT_B], [FACT_B])
    assert (s.hits4, s.rr) == (1.0, 0.25)


def test_only_top_10_count():
    s = score_query([OTHER] * 10 + [FACT_A], [FACT_A])
    assert (s.hits4, s.hits10, s.rr, s.ap, s.first_rank) == (0.0, 0.0, 0.0, 0.0, None)


def test_map_sums_new_facts_over_rank_and_divides_by_fact_count():
    # facts found at ranks 1 and 4 of three facts: (1/1 + 1/4) / 3
    s = score_query([FACT_A, OTHER, OTHER, FACT_C], [FACT_A, FACT_B, FACT_C])
    assert s.ap == pytest.approx((1 + 0.25) / 3)
    assert s.rr == 1.0


def test_two_facts_in_one_passage_tie_at_the_same_rank():
    both = f"{FACT_A} {FACT_B}"
    s = score_query([OTHER, both], [FACT_A, FACT_B])
    assert s.ap == pytest.approx((2 / 2) / 2)  # both facts first matched at rank 2 count 2/2
    assert s.rr == 0.5


def test_a_fact_matched_again_counts_once():
    s = score_query([FACT_A, FACT_A, FACT_B], [FACT_A, FACT_B])
    assert s.ap == pytest.approx((1 / 1 + 1 / 3) / 2)


def test_fact_listed_twice_is_found_once_but_counted_in_the_denominator():
    # the benchmark's code: found facts are deduplicated, the divisor is the length of the list
    s = score_query([FACT_A], [FACT_A, FACT_A])
    assert s.ap == pytest.approx(1 / 2)


def test_map_denominator_is_capped_at_10():
    facts = [f"Fact number {i}." for i in range(12)]
    s = score_query(facts[:10], facts)
    assert s.ap == pytest.approx(sum(1 / r for r in range(1, 11)) / 10)


def test_perfect_ranking_scores_one():
    s = score_query([FACT_A, FACT_B, FACT_C], [FACT_A, FACT_B, FACT_C])
    assert (s.hits4, s.hits10, s.rr) == (1.0, 1.0, 1.0)
    assert s.ap == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)  # the benchmark's MAP, not textbook AP


def test_no_passages_scores_zero_and_no_facts_is_an_error():
    assert score_query([], [FACT_A]).as_dict() == {
        "hits@4": 0.0,
        "hits@10": 0.0,
        "mrr@10": 0.0,
        "map@10": 0.0,
    }
    with pytest.raises(ValueError):
        score_query([FACT_A], [])


def test_means_overall_and_per_type():
    one = score_query([FACT_A], [FACT_A])  # all 1
    half = score_query([OTHER, FACT_A], [FACT_A, FACT_B])  # rr .5, ap .25
    none = score_query([OTHER], [FACT_A])
    summary = summarise([("inference", one), ("comparison", half), ("comparison", none)])
    assert summary["overall"]["n"] == 3
    assert summary["overall"]["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert summary["overall"]["map@10"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert summary["overall"]["hits@10"] == pytest.approx(2 / 3)
    assert summary["comparison"]["hits@4"] == pytest.approx(0.5)
    assert summary["inference"]["map@10"] == 1.0
    assert list(summary) == ["overall", "comparison", "inference"]
    assert mean_scores([])["n"] == 0


def test_percentile_interpolates():
    assert percentile([], 50) == 0.0
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)
