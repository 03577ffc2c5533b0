"""Questions asking for a name favour the names the retrieved articles share, and the answer names it in
full; further points must add to the answer; a name inside a longer one is not that name."""

from index.answers import abstain
from index.answers.bridge import asks_for_name, full_name, shared_names
from index.answers.extract import Draft
from index.answers.focus import adding
from index.answers.terms import content_terms
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


def test_a_further_article_must_name_what_a_short_question_names() -> None:
    question = "What did the judge rule about Donald Trump and the banks?"
    ruling = made_up("a1", "A judge ruled Tuesday that Donald Trump committed fraud for years.")
    banks = made_up("a1", "Judge Arthur Engoron found that the former president deceived banks.", start=80)
    trial = made_up("a2", "Here's what happened on the second day of the trial, with his parents there.")
    named = made_up("a3", "Donald Trump's lawyers said they would appeal the ruling.")
    drafts = [
        Draft(scored(ruling, 0.48, [1, 0, 0, 0])),
        Draft(scored(banks, 0.46, [0, 1, 0, 0])),  # the same article: about the story
        Draft(scored(trial, 0.46, [0, 0, 1, 0])),  # as close, adds no word, names no one asked about
        Draft(scored(named, 0.45, [0, 0, 0, 1])),
    ]
    kept = adding(drafts, question)
    assert [d.lead.sentence.text for d in kept] == [ruling.text, banks.text, named.text]
    # a question of ten content words or more gathers facts from several reports: no such rule
    long = question + " Which banks and insurers were deceived by his overvalued Manhattan assets?"
    assert len(content_terms(long)) >= abstain.SHORT
    assert trial.text in [d.lead.sentence.text for d in adding(drafts, long)]


def test_a_short_question_counts_only_sentences_about_what_it_names() -> None:
    question = "What did Taylor Swift say about Travis Kelce?"
    swift = scored(made_up("a1", "The fund earns from Taylor Swift's 1989 album."), 0.5, [1, 0])
    kelce = scored(made_up("a2", "New England will try to take away Travis Kelce on Sunday."), 0.5, [0, 1])
    apart = {"a1": [swift.sentence.text], "a2": [kelce.sentence.text]}
    ev = abstain.evidence(question, [swift, kelce], [*apart["a1"], *apart["a2"]], {}, apart)
    assert ev.entity_coverage == 1.0 and ev.cosine == 0.5  # each name is held, by different articles
    assert ev.subject_cosine == 0.0 and abstain.should_abstain(ev)
    together = {"a1": [swift.sentence.text, "Travis Kelce cheered from a box."], "a2": apart["a2"]}
    ev = abstain.evidence(question, [swift, kelce], [*together["a1"], *apart["a2"]], {}, together)
    assert ev.subject_cosine == 0.5 and not abstain.should_abstain(ev)
    # a film set in Paris is about Paris; the Paris Agreement is another name
    paris = scored(made_up("b1", "That Paris Agreement will take us to 3 degrees of heating."), 0.47, [1, 0])
    film = scored(made_up("b2", "A love triangle set in Paris, shot through with fashion."), 0.29, [0, 1])
    texts = {"b1": [paris.sentence.text], "b2": [film.sentence.text]}
    weather = "What is the weather in Paris?"
    ev = abstain.evidence(weather, [paris, film], [*texts["b1"], *texts["b2"]], {}, texts)
    assert ev.cosine == 0.47 and ev.subject_cosine == 0.29


def test_the_full_name_is_read_past_reprints_ties_and_the_scored_few() -> None:
    question = "Who is the individual accused of fraud, as reported by The Verge and TechCrunch?"
    wire = "FTX was a fraud from the start, the Securities and Exchange Commission alleged."
    reprints = [scored(made_up(f"w{i}", wire), 0.9 - i / 100, [1, 0, 0]) for i in range(4)]
    surname = [
        scored(made_up(f"s{i}", f"On day {i}, Bankman-Fried denied it in court."), 0.8, [0, 1, 0])
        for i in range(2)
    ]
    chosen = [reprints[0].sentence, surname[0].sentence]
    full = made_up("s0", "Sam Bankman-Fried, the founder of FTX and Alameda, is on trial.", start=300)
    found = full_name(question, [*reprints, *surname], chosen, pool=[full], rescore=lambda q, s: [
        scored(x, 0.5, [0, 0, 1]) for x in s
    ])  # fmt: skip
    # one wire sentence in four outlets is one report: "Bankman-Fried" is the name shared most, and the
    # sentence naming him in full is found among all the retrieved sentences, not only the scored ones
    assert found is not None and found.sentence == full
    assert full_name(question, [*reprints, *surname], chosen, lambda s: False, [full], None) is None
