"""A question comparing reports quotes one excerpt per report ("side"), each from its own article."""

from index.answers.extract import Draft
from index.answers.sides import Side, cover_sides, split_sides
from tests.answers.conftest import made_up, scored

STORE = ["The Age", "Sporting News", "TechCrunch", "FOX News - Health", "FOX News - Lifestyle"]


def test_each_named_outlet_starts_a_side_with_its_part_of_the_question() -> None:
    question = (
        "Does The Age article suggest that the Davis Cup team aims to improve, while the Sporting News "
        "article indicates that the Springboks reached the semi-finals?"
    )
    sides = split_sides(question, STORE)
    assert [s.outlets for s in sides] == [("The Age",), ("Sporting News",)]
    assert "Davis Cup" in sides[0].text and "Springboks" not in sides[0].text
    assert "Springboks" in sides[1].text and "Davis Cup" not in sides[1].text


def test_a_side_without_words_of_its_own_is_scored_on_the_whole_question() -> None:
    question = "Which receiver needs 153 yards a game to reach 2,000, according to TechCrunch and The Age?"
    sides = split_sides(question, STORE)
    assert [s.outlets for s in sides] == [("TechCrunch",), ("The Age",)]
    assert sides[1].text == question


def test_one_outlet_or_none_is_no_comparison() -> None:
    assert split_sides("What did TechCrunch report about Amazon?", STORE) == []
    assert split_sides("What did the judge rule?", STORE) == []


def test_a_name_shared_by_several_outlets_means_any_of_them() -> None:
    question = "Did Fox News report the flu vaccine figures differently from The Age on Monday?"
    sides = split_sides(question, STORE)
    assert sides[0].outlets == ("FOX News - Health", "FOX News - Lifestyle")


def test_the_side_left_out_by_the_whole_question_gets_its_best_sentence() -> None:
    cup = made_up("age1", "The Davis Cup team wants to go one better.", source="The Age")
    age = scored(cup, 0.9, [1, 0, 0])
    age2 = scored(made_up("age2", "Another Age sentence on tennis.", source="The Age"), 0.8, [0, 1, 0])
    news = made_up("sn1", "The Springboks reached the semi-finals.", source="Sporting News")
    drafts = [Draft(age), Draft(age2)]
    sides = [Side(("The Age",), "Davis Cup"), Side(("Sporting News",), "Springboks semi-finals")]
    asked = []

    def score(text, sentences):
        asked.append((text, [s.article_id for s in sentences]))
        return [scored(s, 0.5, [0, 0, 1]) for s in sentences]

    chosen = cover_sides(drafts, sides, [age.sentence, age2.sentence, news], score, max_points=2)
    assert [d.lead.sentence.article_id for d in chosen] == ["age1", "sn1"]  # one per side, in order
    assert asked == [("Springboks semi-finals", ["sn1"])]  # only the missing side, among its outlet's
