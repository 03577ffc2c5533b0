"""Questions asking for a name favour the names the retrieved articles share, and the answer names it in
full; further points must add to the answer; a name inside a longer one is not that name."""

from index.answers import abstain
from index.answers.bridge import asks_for_name, full_name, shared_names
from index.answers.extract import Draft
from index.answers.focus import adding
from tests.answers.conftest import made_up, scored


def test_only_questions_asking_for_a_name_weigh_shared_names() -> None:
    assert asks_for_name("Which exchange did the founder run?")
    assert asks_for_name("Who is the individual accused of fraud?")
    assert not asks_for_name("Did the founder get convicted?")


def test_a_name_several_articles_give_outweighs_one_named_once() -> None:
    sentences = [
        made_up("a1", "Prosecutors said Bankman-Fried took customer money.", start=0),
        made_up("a2", "Bankman-Fried denied it in court on Friday.", start=0),
        made_up("a3", "Ellison testified that Bankman-Fried directed her.", start=0),
        made_up("a4", "The judge, Lewis Kaplan, kept the jury late.", start=0),
    ]
    shares = shared_names("Who is accused of taking customer money?", sentences)
    assert shares[sentences[0].key] > shares[sentences[3].key]
    assert shared_names("Did he take customer money?", sentences) == {}


def test_the_shared_name_is_given_in_full_when_no_chosen_sentence_does() -> None:
    surname = scored(made_up("a1", "Prosecutors said Bankman-Fried took customer money."), 0.9, [1, 0, 0])
    other = scored(made_up("a2", "Bankman-Fried denied it in court on Friday."), 0.8, [0, 1, 0])
    full = scored(made_up("a3", "Sam Bankman-Fried, the founder of FTX, is on trial."), 0.6, [0, 0, 1])
    question = "Who is accused of taking customer money?"
    found = full_name(question, [surname, other, full], [surname.sentence])
    assert found is full
    assert full_name(question, [surname, other, full], [full.sentence]) is None


def test_a_further_point_must_add_to_the_answer() -> None:
    question = "Did Sam Bankman-Fried get convicted?"
    answer = made_up("a1", "Sam Bankman-Fried was found guilty of seven criminal fraud counts.")
    echo = made_up("a2", "It is a Greek tragedy, precipitated by the arrogance of Sam Bankman-Fried.")
    close = made_up("a3", "A jury convicted the FTX founder on all counts after a month-long trial.")
    # `scored` gives each sentence its score as its cosine: 0.6 and 0.5 against the first's 0.8
    drafts = [
        Draft(scored(answer, 0.8, [1, 0, 0])),
        Draft(scored(echo, 0.6, [0, 1, 0])),
        Draft(scored(close, 0.5, [0, 0, 1])),
    ]
    kept = adding(drafts, question)
    # the echo holds only words the first point has, and is less close: dropped; "convicted" is new
    assert [d.lead.sentence.article_id for d in kept] == ["a1", "a3"]


def test_a_one_word_name_at_the_start_of_a_longer_one_is_another_name() -> None:
    texts = ["The Paris Agreement will take us to about 3 degrees of heating, he said."]
    assert abstain.entity_coverage("What is the weather in Paris?", texts)[0] == 0.0
    assert abstain.entity_coverage("What did Trump say?", ["Donald Trump spoke on Monday."])[0] == 1.0
    assert abstain.entity_coverage("What did Sam Altman say?", ["Sam spoke. Altman left."])[0] == 1.0
    title = ["Amazon’s iRobot Purchase Sucks Up Formal Competition Concerns In EU"]
    assert abstain.entity_coverage("What did the EU say about Amazon?", title)[0] == 1.0
