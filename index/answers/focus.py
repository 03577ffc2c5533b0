"""Each point after the first must add to the answer: be about as close to the question as the point
that answers it, or bring in a part of the question the points before it did not touch. A sentence that
only repeats the question's names ("It is a Greek tragedy, precipitated by ... Sam Bankman-Fried." after
"... Sam Bankman-Fried ... was found guilty of seven criminal fraud counts ...") scores well on shared
words but tells the reader nothing more. Measured on MultiHop-RAG dev in docs/answers.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from .extract import Draft, has_term
from .terms import content_terms, words

AS_CLOSE = 0.85  # share of the first point's cosine with the question that a further point may match


def adding(drafts: Sequence[Draft], question: str) -> list[Draft]:
    """The points (best first) without those that neither come close to the first nor bring in a word of
    the question that no earlier point has."""
    if not drafts:
        return []
    terms = content_terms(question)
    first = drafts[0]
    kept = [first]
    covered = _terms_in(first, terms)
    for draft in drafts[1:]:
        mine = _terms_in(draft, terms)
        if draft.lead.cosine >= AS_CLOSE * first.lead.cosine or mine - covered:
            kept.append(draft)
            covered |= mine
    return kept


def _terms_in(draft: Draft, terms: Sequence[str]) -> set[str]:
    present = set(words(draft.lead.sentence.text))
    return {t for t in terms if has_term(present, t)}
