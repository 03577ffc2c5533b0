"""`answer()`: a question becomes quoted, cited sentences from the news, or an honest abstention."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Unpack

from ..engine import Engine
from ..models import Answer, Hit
from . import abstain, cite, extract, support
from .bridge import full_name, shared_names
from .candidates import ArticleCache, Sentence, article_sentences, hit_sentences, pooled_vectors
from .focus import about, adding, subject_names
from .plan import Asked, Plan, make_plan
from .quotable import quotable
from .sides import cover_sides
from .terms import GENERAL_NEWS_WORDS, TermStats, content_terms

log = logging.getLogger(__name__)

SEARCH_K = 16  # passages retrieved per question
RELATED = 3  # closest articles listed when abstaining
RECENT_WEIGHT = 0.15  # score added to the newest article when the question asks for recent news
RECENT_DAYS = 14.0  # how fast that preference fades with an article's age
DIGEST_ARTICLES = 4  # "what happened yesterday?": lead sentences of this many articles


def answer(
    engine: Engine,
    question: str,
    *,
    generative: bool | None = None,
    viewer: str | None = None,
    **asked: Unpack[Asked],
) -> Answer:
    """Answer a question from the news held, quoting articles verbatim with numbered citations.

    `history` holds earlier turns of the conversation (questions, or (question, Answer) pairs);
    `now` sets the clock for relative dates; `generative` overrides NEWSBOT_LLM_URL being set;
    `viewer` (index/scopes.py) is whose news may be read: every read below goes through it.
    """
    engine = engine.viewed_by(viewer)
    plan = make_plan(engine, question, **asked)
    if not set(content_terms(plan.query)) - GENERAL_NEWS_WORDS:
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
    pool: list[Sentence] = field(default_factory=list)  # every quotable sentence of the hits
    rescore: Callable[[str, list[Sentence]], list[extract.Scored]] | None = None  # against other words


def investigate(engine: Engine, plan: Plan) -> Findings:
    hits = engine.search(plan.query, k=SEARCH_K, since=plan.since, until=plan.until, sources=plan.sources)
    cache = ArticleCache(engine)
    pool = [s for s in hit_sentences(hits, cache) if quotable(s.text)]
    boosts = recency_boosts(pool) if plan.prefer_recent else None
    stats = TermStats(engine)
    pooled = pooled_vectors(hits, engine)

    def rescore(query: str, sentences: list[Sentence]) -> list[extract.Scored]:
        names = shared_names(query, sentences)
        return extract.score_sentences(
            query, sentences, engine.embedder, stats, boosts=boosts, pooled=pooled, names=names
        )

    scored = rescore(plan.query, pool)
    texts = [t for h in hits for t in (h.excerpt, h.title, h.source or "")]
    by_article: dict[str, list[str]] = {}
    for h in hits:
        by_article.setdefault(h.article_id, [h.title, h.source or ""]).append(h.excerpt)
    weights = extract.query_weights(plan.query, stats)
    evidence = abstain.evidence(plan.query, scored, texts, weights, by_article)
    log.info("question %r: %s", plan.question, evidence.to_json())
    return Findings(hits, cache, scored, evidence, pool, rescore)


def extractive(engine: Engine, plan: Plan, *, decide: bool = True) -> Answer:
    """The extractive answer; with `decide=False` it never abstains while sentences were found."""
    found = investigate(engine, plan)
    if decide and (plan.beyond or abstain.should_abstain(found.evidence)):
        return abstention(plan, found.hits)
    return respond(engine, plan, found) or abstention(plan, found.hits)


def respond(engine: Engine, plan: Plan, found: Findings) -> Answer | None:
    """The chosen sentences as a cited answer, the one that answers first (None if none is left).

    Each point keeps only the further sources that state its facts; an outlet that differs is quoted
    as a point of its own, and the answer notes it (`support.py`)."""
    selected = extract.select(found.scored)
    chosen = _with_rivals(adding(selected, plan.query), selected)
    chosen, disputed = support.settle(chosen, found.scored)
    drafts = extract.in_reading_order(chosen, newest_first=plan.prefer_recent)
    if plan.sides and found.rescore:
        drafts = cover_sides(drafts, plan.sides, found.pool, found.rescore, extract.MAX_POINTS)
    drafts = _with_full_name(plan, found, drafts)
    groups = [d.sentences for d in drafts]
    return compose(engine, plan.question, groups, found.cache, [*disputed, *support.disputes(drafts)])


def _with_full_name(plan: Plan, found: Findings, drafts: list[extract.Draft]) -> list[extract.Draft]:
    """For a question asking for a name, when no point names in full the name the retrieved articles
    share most, the best sentence that does (and is about what the question names) becomes the second
    point; the last point other than a compared report's makes room (`bridge.full_name`)."""
    names = subject_names(plan.query)
    quoted = [s for d in drafts for s in d.sentences]
    named = full_name(
        plan.query, found.scored, quoted, lambda s: about(s, names, drafts), found.pool, found.rescore
    )
    if named is None or not drafts:
        return drafts
    return [drafts[0], extract.Draft(named), *drafts[1:]][: max(extract.MAX_POINTS, len(plan.sides) + 1)]


def _with_rivals(kept: Sequence[extract.Draft], selected: Sequence[extract.Draft]) -> list[extract.Draft]:
    """The kept points, and any selected point from another outlet that states other facts than a kept
    one: a disagreement adds to the answer even when it shares the kept point's words."""
    mine = {d.lead.sentence.key for d in kept}
    rivals = {s.key for a, b in support.disputes(selected) if {a.key, b.key} & mine for s in (a, b)} - mine
    return [d for d in selected if d.lead.sentence.key in mine or d.lead.sentence.key in rivals]


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
        lead = [s for s in article_sentences(article) if quotable(s.text)][:1]
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
    if plan.beyond:
        text = (
            f"I couldn't find anything that answers this: it asks about {plan.beyond}, and the news I have"
            " only reports what has already happened."
        )
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
