"""The bot's only doorway into the engine's answering functions: synchronous calls run via
`asyncio.to_thread`, each returning what the renderers need.

`index.answers` is written alongside the bot; if its signatures move, only this module changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from index.answers.freshness import as_of
from index.engine import Engine
from index.models import Answer, Article, Hit, Summary
from index.scopes import visible_scopes
from index.storage.feedback import QuestionStats
from index.storage.member_limits import take_turn

from .errors import UserFacingError
from .render import IndexInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """An earlier message of a conversation: who said it ("user" or "bot") and what."""

    role: str
    text: str


def index_info(engine: Engine, viewer: str | None = None) -> IndexInfo:
    """The footer's figures: the articles `viewer` sees (a server is not told how much news other
    servers brought), when the news was last updated, and the latest successful check of a feed it sees."""
    stats = engine.stats()
    articles = stats.get("articles", 0)
    if viewer is not None:
        articles = sum(row["articles"] for row in engine.sources(viewer=viewer))
    polls = [f["last_ok"] for f in feeds_seen(stats, viewer) if f.get("last_ok")]
    return IndexInfo(
        articles=articles, updated_at=stats.get("updated_at"), news_as_of=max(polls, default=None)
    )


def feeds_seen(stats: dict, viewer: str | None) -> list[dict]:
    """The feeds of `Engine.stats()` a viewer sees, each with its latest successful check."""
    scopes = visible_scopes(viewer)
    return [f for f in stats.get("feeds", []) if scopes is None or f["scope"] in scopes]


def _as_of(engine: Engine, info: IndexInfo, question: str, viewer: str | None) -> IndexInfo:
    """The footer's info, saying "as of" when the question or the age of the news makes it matter."""
    newest = engine.articles(limit=1, viewer=viewer)
    moment = as_of(
        question,
        newest=newest[0].published if newest else None,
        updated=info.news_as_of or info.updated_at,
        now=dt.datetime.now(dt.UTC),
    )
    return dataclasses.replace(info, as_of=moment)


def answer_question(
    engine: Engine,
    question: str,
    *,
    since: str | None = None,
    sources: Sequence[str] | None = None,
    history: Sequence[Turn] = (),
    viewer: str | None = None,
) -> tuple[Answer, IndexInfo]:
    """Answer a question and log it (for /stats); returns the answer and the footer's index info."""
    from index.answers import answer

    started = time.perf_counter()
    try:
        result = answer(
            engine,
            question,
            since=since,
            sources=list(sources) if sources else None,
            history=_history(history),
            viewer=viewer,
        )
    except Exception:
        engine.metrics.failed("answer")
        raise
    seconds = time.perf_counter() - started
    engine.metrics.answered(abstained=result.abstained, seconds=seconds)
    latency_ms = seconds * 1000
    engine.feedback.record_question(
        question=result.question, abstained=result.abstained, latency_ms=latency_ms
    )
    return result, _as_of(engine, index_info(engine, viewer), question, viewer)


def member_turn(engine: Engine, bucket: str, member: int, rate: int, window: float) -> float | None:
    """Take a turn of `member` in the store's shared limits (None), or the seconds they must wait."""
    return take_turn(engine.store, bucket, member, now=time.time(), rate=rate, window=window)


def _history(turns: Sequence[Turn]) -> tuple[str, ...]:
    """Earlier questions of the conversation, oldest first (what `answer(history=...)` takes)."""
    return tuple(t.text for t in turns if t.role == "user")


def summarize_article(
    engine: Engine, article_id: str, points: int = 3, *, viewer: str | None = None
) -> tuple[Summary, IndexInfo]:
    from index.answers import summarize_article as summarize

    summary = summarize(engine, article_id, max_points=points, viewer=viewer)
    if summary is None:
        raise UserFacingError("That article is no longer held.")
    return summary, index_info(engine, viewer)


def summarize_topic(
    engine: Engine, topic: str, *, days: int | None = None, viewer: str | None = None
) -> tuple[Summary, IndexInfo]:
    from index.answers import summarize_topic as summarize

    since = _days_ago(days) if days else None
    return summarize(engine, topic, since=since, viewer=viewer), index_info(engine, viewer)


def summarize_period(engine: Engine, days: int, *, viewer: str | None = None) -> tuple[Summary, IndexInfo]:
    from index.answers import summarize_period as summarize

    info = index_info(engine, viewer)  # the news of the last days: always said as of when
    summary = summarize(engine, f"{days}d", viewer=viewer)
    return summary, dataclasses.replace(info, as_of=info.news_as_of or info.updated_at)


def _days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def more_sources(
    engine: Engine,
    question: str,
    *,
    shown: Sequence[str],
    since: str | None = None,
    sources: Sequence[str] | None = None,
    count: int = 5,
    viewer: str | None = None,
) -> tuple[list[Hit], IndexInfo]:
    """The next articles for a question, skipping those already cited (`shown` article ids)."""
    hits = engine.search(question, k=count + len(shown) + 5, since=since, sources=sources, viewer=viewer)
    fresh = [h for h in hits if h.article_id not in set(shown)]
    return fresh[:count], index_info(engine, viewer)


def search_articles(
    engine: Engine, query: str, *, count: int = 10, viewer: str | None = None
) -> tuple[list[Hit], IndexInfo]:
    """Matching articles (one best passage each), best first."""
    seen: set[str] = set()
    found = []
    for hit in engine.search(query, k=count * 3, viewer=viewer):
        if hit.article_id not in seen:
            seen.add(hit.article_id)
            found.append(hit)
    return found[:count], index_info(engine, viewer)


def latest_articles(
    engine: Engine, *, source: str | None = None, count: int = 10, viewer: str | None = None
) -> tuple[list[Article], IndexInfo]:
    found = engine.articles(sources=[source] if source else None, limit=count, viewer=viewer)
    return found, index_info(engine, viewer)


def outlets(engine: Engine, *, viewer: str | None = None) -> tuple[list[dict], IndexInfo]:
    return engine.sources(viewer=viewer), index_info(engine, viewer)


def sources_overview(engine: Engine, viewer: str | None = None) -> tuple[list[dict], IndexInfo, list[dict]]:
    """What `/sources` shows: the outlets, the footer's info ("news as of" the latest successful check
    of a feed the viewer sees) and those feeds, each with its latest successful check."""
    stats = engine.stats()
    info = index_info(engine, viewer)
    outlets = engine.sources(viewer=viewer)
    return outlets, dataclasses.replace(info, as_of=info.news_as_of), feeds_seen(stats, viewer)


def article_titles(engine: Engine, viewer: str | None = None) -> list[tuple[str, str]]:
    """(id, title) of every article `viewer` sees, newest first: what title autocomplete searches."""
    return [(a.id, a.title) for a in engine.articles(viewer=viewer)]


def removable_titles(engine: Engine, scope: str | None) -> list[tuple[str, str]]:
    """(id, title) of the articles `scope` may remove (None: an operator, every article)."""
    return engine.claimed(scope)


def stats(engine: Engine) -> tuple[dict, QuestionStats, tuple[int, int]]:
    return engine.stats(), engine.feedback.question_stats(), engine.feedback.feedback_counts()


def record_vote(engine: Engine, *, message_id: int, user_id: int, question: str, vote: int) -> None:
    engine.feedback.record_feedback(message_id=message_id, user_id=user_id, question=question, vote=vote)


def remember_answer(engine: Engine, message_id: int, context: dict) -> None:
    engine.feedback.remember_answer(message_id, context)


def answer_context(engine: Engine, message_id: int) -> dict | None:
    return engine.feedback.answer_context(message_id)
