"""`answer()`: a question becomes quoted, cited sentences from the news, or an honest abstention."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Unpack

from ..engine import Engine
from ..models import Answer, Hit
from . import abstain, cite, extract, support
from .candidates import ArticleCache, Sentence, article_sentences, hit_sentences, pooled_vectors
from .plan import Asked, Plan, make_plan
from .terms import TermStats, content_terms

log = logging.getLogger(__name__)

SEARCH_K = 12  # passages retrieved per question
RELATED = 3  # closest articles listed when abstaining
RECENT_WEIGHT = 0.15  # score added to the newest article when the question asks for recent news
RECENT_DAYS = 14.0  # how fast that preference fades with an article's age
DIGEST_ARTICLES = 4  # "what happened yesterday?": lead sentences of this many articles
# words of a question that asks for the news in general rather than about something
_GENERAL = """happen happened happening happens going stories story headlines headline top biggest main big
    anything everything important events event what's whats up"""
GENERAL = frozenset(_GENERAL.split())


def answer(
    engine: Engine,
    question: str,
    *,
    generative: bool | None = None,
    **asked: Unpack[Asked],
) -> Answer:
    """Answer a question from the news held, quoting articles verbatim with numbered citations.

    `history` holds earlier turns of the conversation (questions, or (question, Answer) pairs);
    `now` sets the clock for relative dates; `generative` overrides NEWSBOT_LLM_URL being set.
    """
    plan = make_plan(engine, question, **asked)
    if not set(content_terms(plan.query)) - GENERAL:
        result = _digest(engine, plan) if plan.dates.active or plan.prefer_recent else None
        return result or abstention(plan, [])
    result = extractive(engine, plan)
    if result.abstained or not _generative_on(engine, generative):
        return result
    from .generative import rephrase

    return rephrase(engine, result)


def _generative_on(engine: Engine, flag: bool | None) -> bool:
    return bool(getattr(engine.settings, "llm_url", None)) if flag is None else flag


@dataclass(frozen=True)
class Findings:
    """What retrieval and scoring found for a plan, before deciding to answer or abstain."""

    hits: list[Hit]
    cache: ArticleCache
    scored: list[extract.Scored]
    evidence: abstain.Evidence


def investigate(engine: Engine, plan: Plan) -> Findings:
    hits = engine.search(plan.query, k=SEARCH_K, since=plan.since, until=plan.until, sources=plan.sources)
    cache = ArticleCache(engine)
    pool = hit_sentences(hits, cache)
    boosts = recency_boosts(pool) if plan.prefer_recent else None
    stats = TermStats(engine)
    pooled = pooled_vectors(hits, engine)
    scored = extract.score_sentences(plan.query, pool, engine.embedder, stats, boosts=boosts, pooled=pooled)
    texts = [t for h in hits for t in (h.excerpt, h.title, h.source or "")]
    evidence = abstain.evidence(plan.query, scored, texts, extract.query_weights(plan.query, stats))
    log.info("question %r: %s", plan.question, evidence.to_json())
    return Findings(hits, cache, scored, evidence)


def extractive(engine: Engine, plan: Plan, *, decide: bool = True) -> Answer:
    """The extractive answer; with `decide=False` it never abstains while sentences were found."""
    found = investigate(engine, plan)
    if decide and abstain.should_abstain(found.evidence):
        return abstention(plan, found.hits)
    drafts, disputed = support.settle(extract.select(found.scored), found.scored)
    drafts = extract.in_reading_order(drafts, newest_first=plan.prefer_recent)
    groups = [d.sentences for d in drafts]
    result = compose(engine, plan.question, groups, found.cache, [*disputed, *support.disputes(drafts)])
    return abstention(plan, found.hits) if result is None else result


def with_conflicts(result: Answer, pairs: Sequence[tuple[Sentence, Sentence]]) -> Answer:
    """Say so when the quoted sources differ (each side is quoted): one note per set of excerpts that
    differ on the same thing, "compare [1], [2] and [4]"."""
    number = {(c.article_id, c.start, c.end): c.n for c in result.citations}
    sides: dict[int, set[int]] = {}  # each citation number -> the set it belongs to (shared)
    for a, b in pairs:
        na, nb = number.get(a.key), number.get(b.key)
        if not (na and nb) or na == nb:
            continue
        joined = sides.get(na, {na}) | sides.get(nb, {nb})
        for n in joined:
            sides[n] = joined
    groups = sorted({tuple(sorted(g)) for g in sides.values()})
    if not groups:
        return result
    notes = [f"Note: sources differ here — compare {_listed(g)}." for g in groups]
    return replace(result, text="\n".join([result.text, *notes]))


def _listed(numbers: Sequence[int]) -> str:
    marks = [f"[{n}]" for n in numbers]
    return f"{', '.join(marks[:-1])} and {marks[-1]}"


def compose(
    engine: Engine,
    question: str,
    groups: Sequence[Sequence[Sentence]],
    cache: ArticleCache,
    disputed: Sequence[tuple[Sentence, Sentence]] = (),
) -> Answer | None:
    """Number and verify the citations of the chosen sentences (with other outlets' copies where they
    hold the sentence, and a copy's differing version as a point of its own), noting the `disputed`
    pairs and the copies' disputes (`with_conflicts`)."""
    groups, copied = support.with_copies(groups, engine)
    points, citations = cite.number(groups, cache.get)
    if not points:
        return None
    cite.check(points, citations, cache.get)
    result = Answer(question, cite.render(points), False, points, citations)
    return with_conflicts(result, [*disputed, *copied])


def recency_boosts(pool: Sequence[Sentence]) -> dict[str, float]:
    """Per article, a bonus fading with its age relative to the newest article found."""
    dated = {s.article_id: date.fromisoformat(s.published[:10]) for s in pool if _is_date(s.published)}
    if not dated:
        return {}
    newest = max(dated.values())
    return {a: RECENT_WEIGHT * math.exp(-(newest - d).days / RECENT_DAYS) for a, d in dated.items()}


def _is_date(value: str | None) -> bool:
    try:
        date.fromisoformat((value or "")[:10])
    except ValueError:
        return False
    return True


def _digest(engine: Engine, plan: Plan) -> Answer | None:
    """A question with nothing but a time ("what happened yesterday?"): the newest stories' leads."""
    articles = engine.articles(
        since=plan.since, until=plan.until, sources=plan.sources, limit=DIGEST_ARTICLES
    )
    cache = ArticleCache(engine)
    groups = []
    for article in articles:
        cache.put(article)
        lead = article_sentences(article)[:1]
        if lead:
            groups.append(lead)
    return compose(engine, plan.question, groups, cache) if groups else None


def abstention(plan: Plan, hits: Sequence[Hit]) -> Answer:
    """Say plainly that the news held does not answer, listing the closest articles."""
    scope = ""
    if plan.sources:
        scope += " from " + ", ".join(plan.sources)
    if plan.since or plan.until:
        scope += f" published {_period(plan.since, plan.until)}"
    text = f"I couldn't find anything in the news I have{scope} that answers this."
    return Answer(plan.question, text, True, related=tuple(_one_per_article(hits)[:RELATED]))


def _period(since: str | None, until: str | None) -> str:
    if since and until:
        return f"on {since}" if since == until else f"between {since} and {until}"
    return f"since {since}" if since else f"until {until}"


def _one_per_article(hits: Sequence[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.article_id not in seen:
            seen.add(h.article_id)
            out.append(h)
    return out
