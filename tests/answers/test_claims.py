"""The facts outlets can disagree on: a citation supports a sentence only if it states all of them."""

import pytest

from index.answers.claims import differences, facts, supports


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ("The council voted 6-3 to ban gas leaf blowers.", "The council voted 7-2 to ban gas leaf blowers.",
         "tally"),
        ("The bridge will cost $1.2 billion, officials said.", "The bridge will cost $1.4bn, officials said.",
         "figure"),
        ("Turnout was 61% in the city.", "Turnout was 58 percent in the city.", "figure"),
        ("The plant will employ 1,200 people.", "The plant will employ 900 people.", "figure"),
        ("The tunnel opens on May 3, 2025.", "The tunnel opens on 4 May 2025.", "date"),
        ("The strike began in 2019.", "The strike began in 2021.", "date"),
        ("He was found guilty of fraud on Thursday.", "He was acquitted of fraud on Thursday.", "outcome"),
        ("The board approved the merger.", "The board rejected the merger.", "outcome"),
        ("The board approved the merger.", "The board did not approve the merger.", "outcome"),
        ("The Lions won the final.", "The Lions lost the final.", "outcome"),
        ("Jane Smith was elected mayor of Oakton.", "John Doe was elected mayor of Oakton.", "name"),
    ],
)  # fmt: skip
def test_two_outlets_stating_different_facts_differ_and_do_not_support_each_other(a, b, kind) -> None:
    assert kind in differences(a, b)
    assert kind in differences(b, a)
    assert not supports(b, a)
    assert not supports(a, b)


@pytest.mark.parametrize(
    ("excerpt", "claim"),
    [
        ("The bridge will cost 1,200 million dollars, the agency said.",
         "The bridge will cost $1.2 billion."),
        ("Councillors voted 6-3 on Tuesday to ban gas-powered leaf blowers.",
         "The council voted 6-3 to ban leaf blowers."),
        ("Seven of the twelve jurors found him guilty of fraud.", "He was convicted of fraud."),
        ("The board passed the plan.", "The board approved the plan."),
        ("Mayor Jane Smith said the park opens on 3 May.", "Smith said the park opens on May 3."),
    ],
)  # fmt: skip
def test_an_excerpt_stating_every_fact_in_other_words_supports_the_claim(excerpt, claim) -> None:
    assert supports(excerpt, claim)
    assert differences(excerpt, claim) == []


def test_an_excerpt_lacking_a_fact_of_the_claim_does_not_support_it_without_disputing_it() -> None:
    claim = "The council voted 6-3 on Tuesday to ban leaf blowers from 2026."
    vaguer = "The council voted to ban leaf blowers."
    assert not supports(vaguer, claim)
    assert differences(claim, vaguer) == []
    assert supports(claim, vaguer)


def test_a_name_added_elsewhere_is_no_dispute() -> None:
    a = "Mayor Lee said the council voted 6-3 to ban leaf blowers."
    b = "The council voted 6-3 to ban leaf blowers, the AP reported."
    assert differences(a, b) == []
    assert not supports(b, a)  # b does not say that Lee said it


def test_figures_are_read_with_their_scale_unit_and_kind() -> None:
    f = facts("Sales rose 12% to €3.5m in March 4 2024 trading after a 5-4 vote, two days late.")
    assert ("%", 12.0) in f.quantities
    assert ("€", 3_500_000.0) in f.quantities
    assert ("", 2.0) in f.quantities
    assert f.tallies == {(5, 4)}
    assert {("day", "mar 4"), ("year", "2024")} <= f.dates
    assert not any(v in {2024.0, 4.0, 5.0} for _, v in f.quantities)  # a date and a tally are no figures
