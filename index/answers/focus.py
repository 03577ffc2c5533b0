"""Each point after the first must add to the answer: be about as close to the question as the point
that answers it, or bring in a part of the question the points before it did not touch. A sentence that
only repeats the question's names ("It is a Greek tragedy, precipitated by ... Sam Bankman-Fried." after
"... Sam Bankman-Fried ... was found guilty of seven criminal fraud counts ...") scores well on shared
words but tells the reader nothing more.

A point kept for its closeness alone, from an article not quoted yet, must also be about what a short
question names (`abstain.SHORT`: it asks about one story): name one of its names in its sentence, its
article's title or its outlet. Closeness alone lets in another story told in the same register: after
two excerpts on the judge's ruling against Donald Trump, "Here's what happened on the second day of the
trial, ..." (Sam Bankman-Fried's) is as close to "What did the judge rule about Donald Trump and the
banks?" and names no one the question names. A longer question describes its answer by facts from
several reports, each about something else. Measured on MultiHop-RAG dev in docs/answers.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from .abstain import SHORT, namer
from .candidates import Sentence
from .extract import Draft, has_term
from .terms import content_terms, question_names, words

AS_CLOSE = 0.85  # share of the first point's cosine with the question that a further point may match


def adding(drafts: Sequence[Draft], question: str) -> list[Draft]:
    """The points (best first) that bring in a word of the question no earlier point has, or come close
    to the first (from a further article: and name what a short question names, `about`)."""
    if not drafts:
        return []
    terms = content_terms(question)
    names = subject_names(question)
    first = drafts[0]
    kept = [first]
    covered = _terms_in(first, terms)
    for draft in drafts[1:]:
        mine = _terms_in(draft, terms)
        close = draft.lead.cosine >= AS_CLOSE * first.lead.cosine
        if mine - covered or (close and about(draft.lead.sentence, names, kept)):
            kept.append(draft)
            covered |= mine
    return kept


def _terms_in(draft: Draft, terms: Sequence[str]) -> set[str]:
    present = set(words(draft.lead.sentence.text))
    return {t for t in terms if has_term(present, t)}


def subject_names(question: str) -> list[str]:
    """The names a further article must name one of: those of a short question, which asks about one
    story (`abstain.SHORT`). A longer one describes its answer by facts from several reports, each about
    something else: none."""
    return question_names(question) if len(content_terms(question)) < SHORT else []


def about(s: Sentence, names: Sequence[str], kept: Sequence[Draft]) -> bool:
    """A sentence of an article the `kept` points quote, or one naming one of the question's `names` in
    its text, its article's title or its outlet (any sentence when the question names nothing)."""
    if not names or any(k.lead.sentence.article_id == s.article_id for k in kept):
        return True
    return any(map(namer([s.text, s.title, s.source or ""]), names))
