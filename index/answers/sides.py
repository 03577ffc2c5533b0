"""Questions that compare reports ("Does The Age article suggest ..., while the Sporting News article
...?", "Did TechCrunch's report of October 7 ... and its later report ...?") need one excerpt per side.

Scored against the whole question, the sentences of one side usually outscore the other's (its words are
rarer, its article longer), and the answer quotes one side only. Each outlet the question names starts a
side; each side is scored against its own part of the question among its outlet's sentences, and its best
sentence is quoted, from an article no other side took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..retrieval.outlets import OutletMention, find_outlets
from .candidates import Sentence
from .extract import Draft, Scored
from .terms import content_terms

MIN_TERMS = 3  # a side with fewer words of its own ("Do The Verge and ...") is scored on the whole question


@dataclass(frozen=True)
class Side:
    outlets: tuple[str, ...]  # the stored outlets its name may mean ("Fox News": Health, Lifestyle ...)
    text: str  # the part of the question about it


def split_sides(question: str, outlets: Iterable[str]) -> list[Side]:
    """One side per outlet mention, with the question's words up to the next mention (none when the
    question names fewer than two outlets)."""
    mentions = _distinct(find_outlets(question, outlets))
    if len(mentions) < 2:
        return []
    bounds = [0, *(m[0].start for m in mentions[1:]), len(question)]
    sides = []
    for same, (a, b) in zip(mentions, pairwise(bounds), strict=True):
        m = same[0]
        own = question[a : m.start] + " " + question[m.end : b]
        enough = len(content_terms(own)) >= MIN_TERMS
        sides.append(Side(tuple(x.outlet for x in same), question[a:b].strip() if enough else question))
    return sides


def _distinct(mentions: list[OutletMention]) -> list[list[OutletMention]]:
    """The mentions at each place in the question: where names overlap ("The Independent" inside "The
    Independent - Life and Style"), those of the longest span."""
    kept: list[list[OutletMention]] = []
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        if not kept or m.start >= kept[-1][0].end:
            kept.append([m])
        elif (m.start, m.end) == (kept[-1][0].start, kept[-1][0].end) and m.outlet not in {
            x.outlet for x in kept[-1]
        }:
            kept[-1].append(m)
    return kept


Scorer = Callable[[str, list[Sentence]], list[Scored]]


def cover_sides(
    drafts: Sequence[Draft], sides: Sequence[Side], pool: Sequence[Sentence], score: Scorer, max_points: int
) -> list[Draft]:
    """Points with each side's best sentence (scored by `score` against the side's words among its
    outlet's sentences) in the question's order, then the other chosen points, at most `max_points`."""
    taken: set[str] = set()
    picks: list[Draft] = []
    for side in sides:
        own = [s for s in pool if s.source in side.outlets and s.article_id not in taken]
        covering = _covering(drafts, side, taken)
        if covering is not None:
            pick = covering
        else:
            best = next(iter(score(side.text, own)), None) if own else None
            if best is None:
                continue
            pick = Draft(best)
        taken.add(pick.lead.sentence.article_id)
        picks.append(pick)
    rest = [d for d in drafts if all(d is not p for p in picks)]
    return [*picks, *rest][: max(max_points, len(picks))]


def _covering(drafts: Sequence[Draft], side: Side, taken: set[str]) -> Draft | None:
    """A chosen point already quoting the side's outlet (from an article no other side took)."""
    for d in drafts:
        s = d.lead.sentence
        if s.source in side.outlets and s.article_id not in taken:
            return d
    return None
