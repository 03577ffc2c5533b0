"""Outlets that disagree: every citation's excerpt states its point, and both sides are quoted.

Small made-up articles from several outlets (near-copies recognised at ingest among them) give
different tallies, costs and verdicts; the answers are checked citation by citation."""

import re

import pytest

from index.answers import answer
from index.answers.candidates import Sentence
from index.answers.support import settle
from index.models import Answer, ArticleDraft
from tests.answers.conftest import made_up, scored

CLERK = "Brightwater's council voted 6-3 to ban gas leaf blowers, according to a council clerk."
COUNCIL = (
    f"{CLERK} The ban takes effect next spring for homeowners and landscaping crews alike. "
    "Residents had complained for years about noise and fumes from the machines on weekend mornings. "
    "Landscapers told the meeting that battery blowers cost more and run for less than an hour. "
    "The town will offer rebates to small businesses that replace their equipment before the deadline."
)
COUNCIL_REPRINT = COUNCIL + " This story was shared by a partner newsroom."
COUNCIL_CHANGED = COUNCIL.replace("voted 6-3", "voted 5-4") + " Shared by a partner newsroom."
RIVAL = (
    "Brightwater's council voted 7-2 to ban gas leaf blowers, according to the mayor's office. "
    "Council members spent two hours hearing from gardeners and parents before the vote on Tuesday night. "
    "Supporters said the quieter machines would make the town's parks more pleasant for families."
)
BRIDGE_A = (
    "The new Harbor Bridge will cost $1.2 billion, transport officials said on Monday. "
    "Construction of the cable-stayed span over the river starts in the summer and lasts four years. "
    "Ferry operators worry that traffic on the water will be disrupted while the towers go up."
)
BRIDGE_B = (
    "The new Harbor Bridge will cost $1.4 billion, transport officials said on Monday. "
    "Engineers chose a cable-stayed design because the riverbed is too soft for many piers. "
    "Tolls are expected to repay part of the construction debt over thirty years."
)
FIGURES = re.compile(r"\$?\d[\d,.]*(?:-\d+)?(?: ?(?:billion|million|%))?")


def _draft(body: str, origin: str, title: str, source: str, day: str = "2024-05-08") -> ArticleDraft:
    return ArticleDraft(body, origin, title, source, f"https://{origin}.example/story", day)


def ingest_disputes(engine):
    """Six short articles: one vote reported by three outlets with three tallies (two of them near-copies
    of the first, recognised at ingest), and one bridge with two costs."""
    report = engine.ingest_items(
        [
            _draft(COUNCIL, "valley", "Brightwater bans gas leaf blowers", "Valley Times"),
            _draft(COUNCIL_REPRINT, "lake", "Gas leaf blowers banned in Brightwater", "Lake Ledger"),
            _draft(COUNCIL_CHANGED, "hill", "Brightwater council bans leaf blowers", "Hill Herald"),
            _draft(RIVAL, "post", "Leaf blower ban passes in Brightwater", "Brightwater Post"),
            _draft(BRIDGE_A, "wire", "Harbor Bridge price set", "Wire One"),
            _draft(BRIDGE_B, "daily", "Harbor Bridge cost rises", "Daily Two"),
        ]
    )
    assert (report.added, report.duplicates) == (4, 2), report.to_json()
    return engine


@pytest.fixture
def disputed(engine):
    return ingest_disputes(engine)


def assert_every_citation_states_its_point(result: Answer, engine) -> None:
    by_n = {c.n: c for c in result.citations}
    for point in result.points:
        figures = FIGURES.findall(point.text)
        for n in point.citations:
            c = by_n[n]
            assert engine.article(c.article_id).body[c.start : c.end] == c.excerpt
            for figure in figures:
                assert figure in c.excerpt, (point.text, c.source, c.excerpt)
            for outlet in c.also_reported_by:  # an outlet named as also reporting it holds it verbatim
                copies = [a for a in engine.articles() if a.source == outlet] + [
                    a for a in engine.copies_of(c.article_id) if a.source == outlet
                ]
                assert any(c.excerpt in a.body for a in copies), (outlet, c.excerpt)


def _cited(result: Answer, needle: str) -> list[int]:
    return [c.n for c in result.citations if needle in c.excerpt]


def test_a_vote_reported_with_different_tallies_quotes_each_with_its_own_citation(disputed) -> None:
    result = answer(disputed, "How did the Brightwater council vote on leaf blowers?")
    assert not result.abstained, result.text
    assert_every_citation_states_its_point(result, disputed)
    texts = [p.text for p in result.points]
    assert any("voted 6-3" in t for t in texts) and any("voted 7-2" in t for t in texts), texts
    six, seven = _cited(result, "voted 6-3"), _cited(result, "voted 7-2")
    changed = _cited(result, "voted 5-4")
    assert six and seven
    (note,) = [line for line in result.text.splitlines() if line.startswith("Note:")]  # one note, each side
    assert note.startswith("Note: sources differ here — compare [")
    named = {int(n) for n in re.findall(r"\[(\d+)\]", note)}
    assert named & set(six) and named & set(seven) and named & set(changed)
    # the reprint holds the sentence and is cited for it; the copy that changed the tally is not
    sources_of_six = {c.source for c in result.citations if c.n in six} | {
        o for c in result.citations if c.n in six for o in c.also_reported_by
    }
    assert "Lake Ledger" in sources_of_six
    assert "Hill Herald" not in sources_of_six
    assert changed and all(c.source == "Hill Herald" for c in result.citations if c.n in changed)


def test_two_costs_are_both_quoted_and_the_answer_says_the_sources_differ(disputed) -> None:
    result = answer(disputed, "What will the new Harbor Bridge cost, according to transport officials?")
    assert not result.abstained, result.text
    assert_every_citation_states_its_point(result, disputed)
    texts = " ".join(p.text for p in result.points)
    assert "$1.2 billion" in texts and "$1.4 billion" in texts
    assert "sources differ here" in result.text


def _s(article: str, text: str, source: str) -> Sentence:
    return made_up(article, text, source=source)


def test_a_folded_source_that_states_another_figure_becomes_its_own_point() -> None:
    from index.answers.extract import Draft

    lead = scored(_s("a", "The jury found him guilty of fraud.", "One"), 0.9, [1, 0, 0])
    same = scored(_s("b", "A jury found him guilty of fraud on all counts.", "Two"), 0.8, [0.95, 0.3, 0])
    other = scored(_s("c", "The jury acquitted him of fraud.", "Three"), 0.8, [0.9, 0.4, 0])
    vaguer_text = "The jury reached a verdict in the fraud case on Friday."
    vaguer = scored(_s("d", vaguer_text, "Four"), 0.8, [0.9, 0, 0.4])
    drafts, pairs = settle([Draft(lead, [same, other, vaguer])], [lead, same, other, vaguer])
    assert [[s.article_id for s in d.sentences] for d in drafts] == [["a", "b"], ["c"]]
    assert pairs == [(lead.sentence, other.sentence)]


def test_a_disputing_sentence_selection_skipped_is_quoted_too() -> None:
    from index.answers.extract import Draft

    lead = scored(_s("a", "The bridge will cost $1.2 billion.", "One"), 0.9, [1, 0, 0])
    skipped = scored(_s("b", "The bridge will cost $1.4 billion.", "Two"), 0.7, [0.9, 0.43, 0])
    unrelated = scored(_s("c", "The bridge will cost $2 in tolls.", "Three"), 0.7, [0, 0, 1])
    weak = scored(_s("d", "The bridge will cost $1.9 billion.", "Four"), 0.3, [0.9, 0.43, 0])
    drafts, pairs = settle([Draft(lead)], [lead, skipped, unrelated, weak])
    assert [d.lead.sentence.article_id for d in drafts] == ["a", "b"]
    assert pairs == [(lead.sentence, skipped.sentence)]


def test_a_topic_summary_cites_only_excerpts_that_state_each_point(disputed) -> None:
    from index.answers import summarize_topic

    result = summarize_topic(disputed, "Brightwater council vote to ban gas leaf blowers")
    assert result.points
    assert_every_citation_states_its_point(result, disputed)
    texts = " ".join(p.text for p in result.points)
    assert "voted 6-3" in texts and "voted 7-2" in texts


@pytest.mark.model
def test_with_the_real_model_every_side_is_quoted_and_every_citation_states_its_point(
    settings, real_embedder
) -> None:
    from index.engine import Engine

    with Engine(settings, embedder=real_embedder) as engine:
        ingest_disputes(engine)
        for question, sides in [
            ("How did the Brightwater council vote on leaf blowers?", ("6-3", "7-2", "5-4")),
            ("How much will the Harbor Bridge cost?", ("$1.2 billion", "$1.4 billion")),
        ]:
            result = answer(engine, question)
            assert not result.abstained, question
            assert_every_citation_states_its_point(result, engine)
            texts = " ".join(p.text for p in result.points)
            assert all(side in texts for side in sides), (question, texts)
            assert "sources differ here" in result.text
