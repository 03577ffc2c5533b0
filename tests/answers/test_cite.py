"""Citations are numbered 1..N in order of use, every listed one is cited, and every excerpt is verbatim."""

from dataclasses import replace

import pytest

from index.answers import cite
from index.models import Point
from tests.answers.conftest import BUDGET, BUDGET_OTHER, FLEET, OTHER, VOTE, article_by_url, sentence_of


@pytest.fixture
def budget(small_engine):
    return article_by_url(small_engine, "https://wire.example/budget")


@pytest.fixture
def other(small_engine):
    return article_by_url(small_engine, "https://daily.example/budget")


def test_numbers_follow_first_use_and_a_repeated_source_keeps_its_number(small_engine, budget, other) -> None:
    fleet, vote, rival = sentence_of(budget, FLEET), sentence_of(budget, VOTE), sentence_of(other, OTHER)
    points, citations = cite.number([[fleet, rival], [vote], [rival]], small_engine.article)
    assert [c.n for c in citations] == [1, 2, 3]
    assert [p.citations for p in points] == [(1, 2), (3,), (2,)]
    assert [c.excerpt for c in citations] == [FLEET, OTHER, VOTE]
    cite.check(points, citations, small_engine.article)


def test_citations_carry_the_article_and_exact_offsets(small_engine, budget) -> None:
    _, (c,) = cite.number([[sentence_of(budget, FLEET)]], small_engine.article)
    assert (c.title, c.source, c.url, c.published) == (
        "Council approves transport budget", "Wire One", "https://wire.example/budget", "2024-03-11"
    )  # fmt: skip
    assert BUDGET[c.start : c.end] == FLEET == c.excerpt


def test_an_excerpt_that_is_not_verbatim_is_dropped(small_engine, budget) -> None:
    good = sentence_of(budget, FLEET)
    shifted = replace(sentence_of(budget, VOTE), start=good.start + 1)  # offsets no longer match the text
    altered = replace(good, text=FLEET.replace("120", "150"))
    points, citations = cite.number([[shifted], [altered, good]], small_engine.article)
    assert [c.excerpt for c in citations] == [FLEET]
    assert points == (Point(FLEET, (1,)),)


def test_check_refuses_broken_answers(small_engine, budget, other) -> None:
    points, citations = cite.number(
        [[sentence_of(budget, FLEET)], [sentence_of(other, OTHER)]], small_engine.article
    )
    with pytest.raises(AssertionError, match="not verbatim"):
        cite.check(points, (citations[0], replace(citations[1], start=0)), small_engine.article)
    with pytest.raises(AssertionError, match="cited"):
        cite.check(points[:1], citations, small_engine.article)
    with pytest.raises(AssertionError, match=r"1\.\.N"):
        cite.check(points, (citations[0], replace(citations[1], n=3)), small_engine.article)


def test_consistent_renumbers_and_drops_unknown_references(small_engine, budget, other) -> None:
    _, citations = cite.number(
        [[sentence_of(budget, FLEET)], [sentence_of(other, OTHER)], [sentence_of(budget, VOTE)]],
        small_engine.article,
    )
    points = [Point("Uses three.", (3,)), Point("Cites nothing real.", (7,)), Point("Uses one.", (1, 9))]
    kept_points, kept = cite.consistent(points, citations)
    assert [p.text for p in kept_points] == ["Uses three.", "Uses one."]
    assert [p.citations for p in kept_points] == [(1,), (2,)]
    assert [(c.n, c.excerpt) for c in kept] == [(1, VOTE), (2, FLEET)]


def test_render_puts_markers_after_each_point() -> None:
    text = cite.render([Point("First.", (1,)), Point("Second.", (2, 3))])
    assert text == "First. [1]\nSecond. [2][3]"
    assert BUDGET_OTHER  # the fixture text the other tests quote


def test_a_points_outlets_count_its_sources_and_the_copies_that_hold_them() -> None:
    from index.models import Citation

    def quoted(n: int, source: str | None, also: tuple[str, ...] = ()) -> Citation:
        return Citation(n, article_id=f"a{n}", title="T", source=source, url=None, published=None,
                        excerpt="x", start=0, end=1, also_reported_by=also)  # fmt: skip

    citations = [quoted(1, "Wire One", ("Daily Two",)), quoted(2, "Daily Two"), quoted(3, None)]
    assert cite.outlets((1, 2, 3), citations) == ["Wire One", "Daily Two"]
    assert cite.carried((1, 2), citations) == " (2 outlets)"
    assert cite.carried((2,), citations) == ""
    assert cite.relabel("A [1] B [2] C [9]", citations) == "A [1] B [2] C [9]"
    same = [quoted(1, "Wire One"), replace(quoted(2, "Daily Two"), article_id="a1"), quoted(3, "X")]
    assert cite.relabel("A [1] B [3] C [2]", same) == "A [1a] B [2] C [1b]"
    assert cite.labelled((2, 3), same) == "[1b][2]"
