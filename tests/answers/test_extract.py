"""Sentence selection: the best few, no repeats, one point for a fact several outlets state, and both
sides when outlets disagree."""

import random

from index.answers import extract
from index.answers.extract import has_term, stem
from index.answers.terms import words
from tests.answers.conftest import axis, made_up, scored
from tests.conftest import bundled_articles


def test_the_same_fact_from_two_outlets_is_one_point_with_two_sources() -> None:
    a = made_up("a1", "The council approved the transport budget on Monday.", source="Wire One")
    b = made_up("b1", "The city council approved its transport budget on Monday.", source="Daily Two")
    c = made_up("c1", "The phone goes on sale in April for 900 euros.", source="Tech Three")
    drafts = extract.select(
        [scored(a, 0.9, [1, 0, 0]), scored(b, 0.85, [0.98, 0.2, 0]), scored(c, 0.8, [0, 0, 1])]
    )
    assert [[s.article_id for s in d.sentences] for d in drafts] == [["a1", "b1"], ["c1"]]


def test_a_sentence_repeating_one_already_chosen_from_the_same_article_is_skipped() -> None:
    a = made_up("a1", "The council approved the budget.", start=0)
    a2 = made_up("a1", "The council has approved the budget.", start=100)
    drafts = extract.select([scored(a, 0.9, [1, 0, 0]), scored(a2, 0.88, [0.99, 0.1, 0])])
    assert [d.lead.sentence.start for d in drafts] == [0]
    assert drafts[0].others == []


def test_disagreeing_figures_from_two_outlets_are_both_shown() -> None:
    a = made_up("a1", "The budget adds 120 electric buses by spring.", source="Wire One")
    b = made_up("b1", "The budget adds only 80 electric buses by spring.", source="Daily Two")
    drafts = extract.select([scored(a, 0.9, [1, 0, 0]), scored(b, 0.85, [0.8, 0.6, 0])])
    assert [d.lead.sentence.article_id for d in drafts] == ["a1", "b1"]
    assert extract.disagree(a, b)


def test_weak_sentences_and_more_than_the_cap_are_left_out() -> None:
    strong = [
        scored(made_up(f"a{i}", f"Sentence number {i} is here."), 1 - i / 100, axis(i)) for i in range(6)
    ]
    weak = scored(made_up("w", "A weak sentence far below the best."), 0.3, axis(7))
    drafts = extract.select([*strong, weak])
    assert len(drafts) == extract.MAX_POINTS
    assert "w" not in {d.lead.sentence.article_id for d in drafts}


def test_at_most_two_points_from_one_article() -> None:
    items = [scored(made_up("a1", f"Fact {i} here.", start=i * 50), 1 - i / 100, axis(i)) for i in range(4)]
    drafts = extract.select(items)
    assert len(drafts) == extract.PER_ARTICLE


def test_points_are_grouped_by_article_with_the_best_point_first() -> None:
    late = made_up("a1", "Second sentence of a1.", start=200)
    early = made_up("a1", "First sentence of a1.", start=10)
    other = made_up("b1", "Only sentence of b1.")
    drafts = [extract.Draft(scored(late, 0.9, [1, 0, 0])), extract.Draft(scored(other, 0.8, [0, 1, 0])),
              extract.Draft(scored(early, 0.7, [0, 0, 1]))]  # fmt: skip
    ordered = extract.in_reading_order(drafts)
    # the best sentence leads even though it comes later in its article
    assert [(d.lead.sentence.article_id, d.lead.sentence.start) for d in ordered] == [
        ("a1", 200), ("a1", 10), ("b1", 0)
    ]  # fmt: skip


def test_lexical_overlap_weights_rare_words() -> None:
    weights = {"ozempic": 5.0, "drug": 1.0}
    assert extract.lexical_overlap(weights, "Ozempic is popular.") == 5 / 6
    assert extract.lexical_overlap(weights, "Drugs are popular.") == 1 / 6


def test_conflicting_figures_are_flagged_in_the_answer(small_engine) -> None:
    from index.answers.ask import compose, with_conflicts
    from index.answers.candidates import ArticleCache
    from index.answers.support import disputes
    from tests.answers.conftest import FLEET, OTHER, article_by_url, sentence_of

    wire = sentence_of(article_by_url(small_engine, "https://wire.example/budget"), FLEET)
    daily = sentence_of(article_by_url(small_engine, "https://daily.example/budget"), OTHER)
    drafts = [extract.Draft(scored(wire, 0.9, [1, 0, 0])), extract.Draft(scored(daily, 0.8, [0.8, 0.6, 0]))]
    pairs = disputes(drafts)
    assert pairs == [(wire, daily)]
    result = compose(
        small_engine, "How many buses?", [d.sentences for d in drafts], ArticleCache(small_engine)
    )
    noted = with_conflicts(result, pairs)
    assert noted.text.startswith(result.text)
    assert noted.text.endswith("sources differ here — compare [1] and [2].")
    assert noted.citations == result.citations


def test_a_term_is_found_exactly_when_a_word_of_the_text_has_its_stem() -> None:
    texts = [r["body"] for r in bundled_articles()]
    vocabulary = sorted({w for t in texts for w in words(t)})
    rng = random.Random(0)
    tricky = ["city", "cities", "bus", "buses", "ies", "s", "ss", "glass", "news", "policies", "tries", "y"]
    sentences = [s for t in texts for s in t.split(". ")][::7]
    for sentence in sentences:
        present = set(words(sentence))
        stemmed = {stem(w) for w in present}
        for term in rng.sample(vocabulary, 30) + tricky:
            assert has_term(present, term) == (stem(term) in stemmed), (term, sentence)
