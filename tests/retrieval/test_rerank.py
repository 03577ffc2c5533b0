"""Sentence-level rescoring (index/retrieval/rerank.py) and its place in search."""

import random
import re
from dataclasses import replace

import pytest

from index.engine import Engine
from index.models import ArticleDraft
from index.retrieval.rerank import _words_by_sentence, sentence_scores, split_clauses


def test_a_multi_part_question_is_split_into_its_clauses():
    question = (
        "Does the TechCrunch article say the startup raised $1,000 million from investors, "
        "while The Verge article reports layoffs at its Berlin office?"
    )
    assert split_clauses(question) == [
        "Does the TechCrunch article say the startup raised $1,000 million from investors",
        "The Verge article reports layoffs at its Berlin office",
    ]


def test_a_clause_grows_until_it_has_enough_content_words():
    question = (
        "Which company, as TechCrunch reported, built the chatbot, "
        "and was sued by publishers for copying news?"
    )
    assert split_clauses(question) == [
        "Which company as TechCrunch reported built the chatbot",
        "and was sued by publishers for copying news",
    ]
    assert split_clauses("Who won?") == ["Who won"]
    assert split_clauses("and, or?") == []


def test_the_passage_whose_sentence_answers_a_clause_scores_highest():
    passages = {
        1: "Electric ferries were left out. Buses are late again. The council argued about the budget.",
        2: "The vote was close. The budget buys forty electric buses. Residents applauded.",
        3: "The council met on Monday.",
    }
    scores = sentence_scores("How many electric buses are in the council budget?", passages)
    assert scores[2] == 1.0
    assert 0.0 < scores[1] < 1.0


def test_a_sentence_is_scored_against_one_clause_at_a_time():
    passages = {
        1: "Forty electric buses were approved by the council.",
        2: "Residents said the electric buses run late.",  # words of both clauses, fewer of either
        3: "The council met.",
    }
    question = (
        "Did the council approve forty electric buses, while residents complained about late night trams?"
    )
    scores = sentence_scores(question, passages)
    assert scores[1] == 1.0 and scores[2] < 1.0
    assert sentence_scores(question.replace(", while", " and"), passages)[2] == 1.0  # one clause


def test_words_all_candidates_share_weigh_least():
    passages = {
        1: "The council met.",
        2: "The council voted.",
        3: "The tram stopped.",
    }
    scores = sentence_scores("Did the council stop the tram?", passages)
    assert scores[3] == 1.0
    assert scores[1] == scores[2] < 0.5


def test_no_content_words_score_nothing():
    assert sentence_scores("What is it?", {1: "It is what it is.", 2: "Nothing."}) == {1: 0.0, 2: 0.0}
    assert sentence_scores("Which buses?", {}) == {}


def test_question_words_are_found_in_each_sentence_exactly_as_a_regex_would_cut_them():
    # Words inside longer words, underscores, digits, accents and words that cross a span's end must
    # count exactly as `\w+` over each sentence span finds them, spans with gaps between them included.
    rng = random.Random(5)
    vocabulary = ["rate", "rates", "fed", "fed_x", "2024", "24", "café", "cafés", "_", "x", "ai", "main"]
    joiners = [" ", ". ", "-", "", ", ", "'", "\n", "é"]
    for _ in range(400):
        text = "".join(rng.choice(vocabulary) + rng.choice(joiners) for _ in range(rng.randint(1, 25)))
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, 2 * rng.randint(1, 4))))
        spans = list(zip(cuts[::2], cuts[1::2], strict=False))
        asked = set(rng.sample(vocabulary, 5))
        expected = [asked & set(re.findall(r"\w+", text[s:e])) for s, e in spans]
        assert _words_by_sentence(text, spans, asked) == expected, (text, spans, asked)


ARTICLES = [
    # Every word of the question, each in a different sentence.
    ArticleDraft("Electric ferries were left out. Buses are late again. The harbour council argued. "
                 "The budget debate ended.", "a", "Harbour council debates transport budget", "Wire One",
                 "https://wire.example/debate", "2024-03-11"),
    # The answer, in one sentence with three of the question's words.
    ArticleDraft("The vote was eleven to four. The budget buys forty electric buses from a Norwegian maker. "
                 "Residents applauded.", "b", "Harbour council votes on transport budget", "Wire One",
                 "https://wire.example/vote", "2024-03-12"),
    ArticleDraft("The harbour council will discuss the schools budget in May. Teachers asked the council for "
                 "more staff.", "c", "Harbour council to discuss schools", "Daily Two",
                 "https://daily.example/schools", "2024-03-13"),
    ArticleDraft("The harbour council closed the old tram line in 2019. The council promised an answer on "
                 "night services.", "d", "Harbour council and the tram line", "Daily Two",
                 "https://daily.example/tram", "2024-03-14"),
]  # fmt: skip


@pytest.mark.parametrize("sentence_weight", [0.5, 0.0])
def test_search_puts_the_answering_sentence_first(engine: Engine, sentence_weight):
    engine.ingest_items(ARTICLES)
    engine.weights = replace(engine.weights, sentence_weight=sentence_weight)
    hits = engine.search("How many electric buses are in the harbour council's transport budget?", k=4)
    # Passage scores alone prefer the passage with the most question words; the sentence score the answer.
    expected = "https://wire.example/vote" if sentence_weight else "https://wire.example/debate"
    assert hits[0].url == expected, [(h.url, h.score) for h in hits]
