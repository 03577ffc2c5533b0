"""Follow-up questions: "what did he say about tariffs?" read in the light of the earlier turns."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from ..models import Answer
from .terms import content_terms, entities

log = logging.getLogger(__name__)

Turn = str | tuple[str, Answer | None] | Answer

_REFERRING = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its|this|that|these|those|there|the company|"
    r"the firm|the team|the judge|the case|the deal|the trial)\b",
    re.I,
)
_CONTINUING = re.compile(r"^\s*(and|also|but|so|what about|how about|what else|anything else|more)\b", re.I)
SHORT = 3  # a question with fewer content terms than this leans on the conversation


def question_of(turn: Turn) -> tuple[str, Answer | None]:
    if isinstance(turn, str):
        return turn, None
    if isinstance(turn, Answer):
        return turn.question, turn
    question, answer = turn
    return question, answer


def needs_context(question: str) -> bool:
    """Pronouns, a continuation ("and ...", "what about ..."), or too few words of its own."""
    if _CONTINUING.search(question) or len(content_terms(question)) < SHORT:
        return True
    return bool(_REFERRING.search(question)) and not entities(question)


def context_terms(question: str, answer: Answer | None, limit: int = 6) -> list[str]:
    """What a previous turn was about: its named entities, else the names in its answer's first
    source's title and its content words."""
    named = entities(question)
    found = named or content_terms(question)[:limit]
    if answer is not None and answer.citations and not named:
        found = entities(answer.citations[0].title)[:2] + found
    return list(dict.fromkeys(found))[:limit]


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The question expanded with what the conversation was about, when it depends on it."""
    if not history or not needs_context(question):
        return question
    *earlier, last = history
    previous, answer = question_of(last)
    previous = resolve(previous, earlier)
    extra = [t for t in context_terms(previous, answer) if t.casefold() not in question.casefold()]
    if not extra:
        return question
    resolved = f"{question} ({', '.join(extra)})"
    log.debug("follow-up %r resolved as %r", question, resolved)
    return resolved
