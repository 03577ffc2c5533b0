"""Follow-up questions are expanded with what the earlier turn was about."""

from index.answers.followup import needs_context, resolve
from index.models import Answer, Citation


def test_a_pronoun_question_takes_the_previous_subject() -> None:
    resolved = resolve("What did he say about tariffs?", ["What did Donald Trump announce on trade?"])
    assert "Donald Trump" in resolved
    assert resolved.startswith("What did he say about tariffs?")


def test_a_question_that_stands_alone_is_unchanged() -> None:
    question = "What did Google pay Apple to be the default search engine?"
    assert resolve(question, ["What did Sam Bankman-Fried tell the jury?"]) == question


def test_a_continuation_resolves_through_earlier_turns() -> None:
    history = ["What did Sam Bankman-Fried tell the jury?", "What did his lawyers say?"]
    assert "Sam Bankman-Fried" in resolve("And the prosecutors?", history)


def test_history_may_hold_answers() -> None:
    citation = Citation(
        1, article_id="a1", title="Ozempic linked to stomach paralysis", source="Fox", url=None,
        published=None, excerpt="x", start=0, end=1,
    )  # fmt: skip
    earlier = Answer(
        "Which weight loss drug is linked to stomach paralysis?", "x [1]", False, (), (citation,)
    )
    resolved = resolve("What did the study find about it?", [(earlier.question, earlier)])
    assert "Ozempic" in resolved


def test_needs_context() -> None:
    assert needs_context("What about the prosecutors?")
    assert needs_context("Why did she resign?")
    assert not needs_context("Why did Sam Bankman-Fried's lawyers call Adam Yedidia?")
    assert resolve("Why did she resign?", []) == "Why did she resign?"
