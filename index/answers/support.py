"""Every citation supports its point: sources that state something else become points of their own.

Selection (extract.py) folds sentences of other outlets that say much the same thing into one point, and
skips sentences that repeat a chosen one. Much the same is not the same: "voted 6-3" and "voted 7-2" are
close in meaning and wording. Here a further source stays on a point only when its excerpt states every
fact of the point (claims.supports); one that gives another figure, date, name or outcome is quoted as a
point of its own, and the pair is reported so the answer can say that the sources differ. The same holds
for other outlets' stored copies of a story (near-duplicates found at ingest): a copy is cited, or named
as "also reported by", only where it holds the point's sentence; a copy that changed a figure is quoted
with its own figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..engine import Engine
from ..models import Article
from . import claims, extract
from .candidates import Sentence, article_sentences

Pair = tuple[Sentence, Sentence]
CLOSE = 0.75  # cosine above which a skipped sentence of another outlet is about the same thing
SAME_SUBJECT = 0.6  # cosine above which two chosen points with different facts are about the same thing
RIVAL_FLOOR = 0.5  # share of the best score a disputing sentence needs to be quoted
MAX_RIVALS = 2  # disputing sentences added to an answer beyond the selected points
COPY_WORDING = 0.5  # word overlap at which a copy's sentence is its version of the point's sentence


def settle(
    drafts: Sequence[extract.Draft], scored: Sequence[extract.Scored]
) -> tuple[list[extract.Draft], list[Pair]]:
    """Drafts whose every further source supports the lead, with the disputing sentences as points of
    their own (also those selection skipped as repeating a chosen point), and the disputed pairs."""
    kept: list[extract.Draft] = []
    rivals: list[extract.Draft] = []
    pairs: list[Pair] = []
    for draft in drafts:
        lead = draft.lead.sentence
        others = []
        for other in draft.others:
            if claims.supports(other.sentence.text, lead.text):
                others.append(other)
            elif claims.differences(lead.text, other.sentence.text):
                rivals.append(extract.Draft(other))
                pairs.append((lead, other.sentence))
        kept.append(extract.Draft(draft.lead, others))
    chosen = {s.key for d in [*kept, *rivals] for s in d.sentences}
    floor = scored[0].score * RIVAL_FLOOR if scored else 0.0
    for cand in scored:
        if len(rivals) >= MAX_RIVALS or cand.score < floor:
            break
        if cand.sentence.key in chosen:
            continue
        for draft in kept:
            lead = draft.lead
            if (
                _other_outlet(lead.sentence, cand.sentence)
                and float(cand.vector @ lead.vector) >= CLOSE
                and claims.differences(lead.sentence.text, cand.sentence.text)
            ):
                rivals.append(extract.Draft(cand))
                pairs.append((lead.sentence, cand.sentence))
                chosen.add(cand.sentence.key)
                break
    return kept + rivals, pairs


def disputes(drafts: Sequence[extract.Draft], close: float = SAME_SUBJECT) -> list[Pair]:
    """Pairs of chosen points from different outlets that state different facts about the same thing."""
    found = []
    for i, a in enumerate(drafts):
        for b in drafts[i + 1 :]:
            if (
                _other_outlet(a.lead.sentence, b.lead.sentence)
                and float(a.lead.vector @ b.lead.vector) >= close
                and claims.differences(a.lead.sentence.text, b.lead.sentence.text)
            ):
                found.append((a.lead.sentence, b.lead.sentence))
    return found


def _other_outlet(a: Sentence, b: Sentence) -> bool:
    return a.article_id != b.article_id and not (a.source and a.source == b.source)


# -- other outlets' copies of a story ------------------------------------------------------------------


def with_copies(
    groups: Sequence[Sequence[Sentence]], engine: Engine, limit: int = 2
) -> tuple[list[list[Sentence]], list[Pair]]:
    """Groups with each lead's verbatim copies in other outlets' stored copies added as sources, every
    sentence's `also_reported_by` cut to the outlets whose copy holds it, and a copy's differing version
    of a lead (another figure, date, name or outcome) quoted as a point of its own."""
    copies: dict[str, list[Article]] = {}

    def copies_of(article_id: str) -> list[Article]:
        if article_id not in copies:
            copies[article_id] = engine.copies_of(article_id)
        return copies[article_id]

    out: list[list[Sentence]] = []
    rivals: list[list[Sentence]] = []
    pairs: list[Pair] = []
    for group in groups:
        if not group:
            continue
        told = bool(group[0].also_reported_by)  # search found stored copies of the lead's article
        group = [_vouched(s, copies_of(s.article_id) if s.also_reported_by else []) for s in group]
        lead = group[0]
        found: list[Sentence] = []
        for copy in copies_of(lead.article_id) if told else []:
            if not copy.source or copy.source == lead.source:
                continue
            at = copy.body.find(lead.text)
            if at >= 0:
                if len(found) < limit:
                    found.append(_copy_sentence(copy, at, lead))
                continue
            version = _version(copy, lead)
            if version is not None and claims.differences(lead.text, version.text):
                rivals.append([version])
                pairs.append((lead, version))
        out.append([*group, *found])
    return out + rivals, pairs


def _vouched(s: Sentence, copies: Sequence[Article]) -> Sentence:
    """The sentence with `also_reported_by` naming only outlets whose copy holds it verbatim."""
    if not s.also_reported_by:
        return s
    holding = [c.source for c in copies if c.source and c.source != s.source and s.text in c.body]
    return replace(s, also_reported_by=tuple(dict.fromkeys(holding)))


def _copy_sentence(copy: Article, at: int, lead: Sentence) -> Sentence:
    return replace(
        lead,
        article_id=copy.id,
        title=copy.title,
        source=copy.source,
        url=copy.url,
        published=copy.published,
        start=at,
        end=at + len(lead.text),
        position=-1,
        also_reported_by=(),
    )


def _version(copy: Article, lead: Sentence) -> Sentence | None:
    """The copy's sentence most like the lead in wording, if it is recognisably the same sentence."""
    wanted = set(claims.facts(lead.text).words)
    best, best_overlap = None, COPY_WORDING
    for s in article_sentences(copy, passage_score=lead.passage_score):
        have = claims.facts(s.text).words
        overlap = len(wanted & have) / max(len(wanted | have), 1)
        if overlap >= best_overlap:
            best, best_overlap = s, overlap
    return best
