"""Topic alerts: a server's channel or a member follows a topic; new stories about it are delivered.

Engine code the bot and the CLI both run (no Discord: a channel or a member is an opaque id).
- `add`, `follow`, `list_alerts`, `remove` manage alerts: a channel's alert belongs to its server's scope
  ("guild:<id>"), a member's follow to the server they followed from; each sees that scope's news.
- `scan` matches the stories stored since the last scan (the `alert_queue` a trigger fills whoever
  ingested: the poller, `newsbot ingest` in another process) against every alert whose scope sees
  them, with the rule of `alert_match`, and records one pending post per (alert, story).
- `deliveries` claims what may be posted now (at most `per_hour` messages per channel or member an
  hour); the rest are deferred, for the channel's digest (`deferred_for`, `mark_delivered`) or, when the
  cap opens again, one "N more stories on <topic>" message. `mark_sent` records a post once the bot
  says Discord accepted it; a claim the bot never confirmed is offered again after `CLAIM_TTL`.
- `test` shows what a topic would have matched, with exactly the live rule.
Every function where time matters takes `now` (seconds since the epoch) so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..engine import Engine
from ..models import Article
from ..scopes import parse_scope
from ..storage.alerts import AlertExists
from . import schedule
from .alert_match import ArticleText, TopicError, clean_topic, excerpt, topic_key, topic_terms

ALERTS_PER_CHANNEL = 20  # topics one channel follows
FOLLOWS_PER_MEMBER = 10  # topics one member follows
CLAIM_TTL = 600.0  # seconds after which a claim the poster never confirmed is offered again
MAX_AGE = 3 * 86400  # a story published longer ago than this is not news to alert about
SCAN_BATCH = 200
HOUR = 3600.0
TEST_SINCE = "7d"  # what `alerts test` and `/alert test` look back over
LEFT_SERVER = "the bot left this server: paused until it is back"
_DURATION = re.compile(r"([0-9]{1,6})\s*([dh])")


class AlertError(ValueError):
    """Bad input or an unknown alert: the message says what, nothing was changed."""


class _Target:
    """Who gets the posts: `target` is "channel:<id>" (a server's channel) or "user:<id>" (a member's DMs)."""

    target: str

    @property
    def channel_id(self) -> int | None:
        kind, _, value = self.target.partition(":")
        return int(value) if kind == "channel" else None

    @property
    def user_id(self) -> int | None:
        kind, _, value = self.target.partition(":")
        return int(value) if kind == "user" else None


@dataclass(frozen=True)
class Alert(_Target):
    id: int
    scope: str
    target: str  # "channel:<id>" or "user:<id>"
    topic: str
    created_by: str | None
    created_at: str
    paused: bool
    last_error: str | None


@dataclass(frozen=True)
class AlertMatch:
    """A story about a topic: `excerpt == body[start:end]` of the story's main article."""

    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    score: float
    excerpt: str
    start: int
    end: int
    other_outlets: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "article_id": self.article_id, "title": self.title, "source": self.source,
            "published": self.published, "score": round(self.score, 4), "excerpt": self.excerpt,
            "start": self.start, "end": self.end,
        }  # fmt: skip


@dataclass
class Delivery(_Target):
    """What to send to one channel or member now: stories (one embed each) or, with `more` set, the
    deferred ones as one compact message. `keys` are the (alert, story) posts it carries."""

    target: str
    scope: str
    topic: str
    matches: list[AlertMatch] = field(default_factory=list)
    keys: list[tuple[int, str]] = field(default_factory=list)
    more: bool = False


# -- managing alerts -------------------------------------------------------------------------------


def add(engine: Engine, topic: str, *, scope: str, channel_id: int, added_by: str | None = None,
        now: float | None = None) -> Alert:  # fmt: skip
    """A channel of a server (`scope`) follows a topic."""
    return _add(engine, topic, scope, f"channel:{_id(channel_id)}", added_by, ALERTS_PER_CHANNEL, now)


def follow(engine: Engine, topic: str, *, scope: str, user_id: int, now: float | None = None) -> Alert:
    """A member follows a topic (delivered by DM) in the news of the server they follow it from."""
    return _add(engine, topic, scope, f"user:{_id(user_id)}", str(user_id), FOLLOWS_PER_MEMBER, now)


def _add(engine: Engine, topic: str, scope: str, target: str, by: str | None, limit: int,
         now: float | None) -> Alert:  # fmt: skip
    parse_scope(scope)
    try:
        topic = clean_topic(topic)
    except TopicError as error:
        raise AlertError(str(error)) from None
    vector = engine.embedder.embed([topic])[0]
    row = {
        "scope": scope, "target": target, "topic": topic, "topic_key": topic_key(topic),
        "vector": np.asarray(vector, dtype=np.float32).tobytes(), "model": engine.embedder.name,
        "created_by": by, "created_at": schedule.iso(_now(now)),
    }  # fmt: skip
    try:
        alert_id = engine.store.alerts.add(row, limit_per_target=limit)
    except AlertExists:
        return _again(engine, scope, target, topic)
    except OverflowError:
        raise AlertError(f"at most {limit} topics are followed there: remove one first") from None
    return _alert(engine.store.alerts.get(alert_id))


def _again(engine: Engine, scope: str, target: str, topic: str) -> Alert:
    """The same topic added again: an alert paused by a delivery failure (closed DMs, a deleted
    channel) resumes; one that is on is refused."""
    key = topic_key(topic)
    row = next(r for r in engine.store.alerts.all(scope=scope, target=target) if r["topic_key"] == key)
    if not row["paused"]:
        raise AlertError(f"'{topic}' is already followed there")
    engine.store.alerts.set_state(row["id"], paused=False, last_error=None)
    return _alert(engine.store.alerts.get(row["id"]))


def list_alerts(engine: Engine, *, scope: str | None = None, target: str | None = None) -> list[Alert]:
    return [_alert(row) for row in engine.store.alerts.all(scope=scope, target=target)]


def remove(engine: Engine, alert_id: int, *, scope: str | None = None, target: str | None = None) -> Alert:
    """Stop an alert (of `scope`, and of `target` if given: a member removes only their own)."""
    row = engine.store.alerts.get(alert_id)
    if row is None or (scope is not None and row["scope"] != scope) or (target and row["target"] != target):
        raise AlertError(f"no alert #{alert_id} here")
    engine.store.alerts.delete(alert_id)
    return _alert(row)


def delivery_failed(engine: Engine, target: str, reason: str, *, stop: bool = False) -> int:
    """Note on the target's alerts why delivering failed; `stop` pauses them (a member's closed DMs,
    a deleted channel) until resumed. How many alerts."""
    return engine.store.alerts.set_error(target, reason, pause=stop)


def pause_scope(engine: Engine, scope: str) -> int:
    """The bot left the scope's server: its alerts stop (no matching, no posts) until `resume_scope`.
    How many were paused."""
    _scope(scope)
    return engine.store.alerts.pause_scope(scope, LEFT_SERVER)


def resume_scope(engine: Engine, scope: str) -> int:
    """The bot is back in the scope's server: the alerts `pause_scope` paused run again (those paused for
    another reason, a member's closed DMs, a deleted channel, stay paused). How many."""
    _scope(scope)
    return engine.store.alerts.resume_scope(scope, LEFT_SERVER)


def _scope(scope: str) -> str:
    try:
        return parse_scope(scope)
    except ValueError as error:
        raise AlertError(f"bad scope: {error}") from None


def _alert(row: dict) -> Alert:
    return Alert(
        id=row["id"], scope=row["scope"], target=row["target"], topic=row["topic"],
        created_by=row["created_by"], created_at=row["created_at"], paused=bool(row["paused"]),
        last_error=row["last_error"],
    )  # fmt: skip


def _id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AlertError(f"not a Discord id: {value!r}")
    return value


def _now(now: float | None) -> float:
    return time.time() if now is None else now


# -- matching --------------------------------------------------------------------------------------


@dataclass
class _Topic:
    id: int
    scope: str
    terms: tuple[str, ...]
    vector: np.ndarray
    from_seq: int  # only stories queued after this are news to it


def _topics(engine: Engine, rows: Iterable[dict]) -> list[_Topic]:
    """The alerts' topics with their vectors (embedded again if another model made them)."""
    topics = []
    for row in rows:
        if row["vector"] is None or row["model"] != engine.embedder.name:
            vector = engine.embedder.embed([row["topic"]])[0]
        else:
            vector = np.frombuffer(row["vector"], dtype=np.float32)
        topics.append(_Topic(row["id"], row["scope"], topic_terms(row["topic"]), vector, row["from_seq"]))
    return topics


def scan(engine: Engine, *, now: float | None = None) -> int:
    """Match the stories stored since the last scan against every alert; returns how many (alert,
    story) posts were recorded. Safe to run in several processes: a post is recorded once."""
    now, added = _now(now), 0
    topics = _topics(engine, (r for r in engine.store.alerts.all() if not r["paused"]))
    while queued := engine.store.alerts.queued_after(engine.store.alerts.seen_seq(), SCAN_BATCH):
        rows = []
        seqs = {article_id: seq for seq, article_id in queued}
        for article in _new_stories(engine, list(seqs), now) if topics else []:
            text, seen = ArticleText(engine, article), {}
            for topic in topics:
                if topic.scope not in seen:  # (one look per scope, however many of its alerts)
                    seen[topic.scope] = engine.store.visible(article.id, topic.scope)
                if seqs[article.id] <= topic.from_seq or not seen[topic.scope]:
                    continue
                evidence = text.evidence(topic.terms, topic.vector)
                if evidence.matches():
                    start, end = excerpt(engine, article, topic.terms, topic.vector)
                    rows.append((topic.id, article.id, evidence.score(), start, end, now))
        added += engine.store.alerts.record_matches(rows, queued[-1][0])
    return added


def _new_stories(engine: Engine, article_ids: list[str], now: float) -> list[Article]:
    """Those still stored as a story's main article, not a feed's backlog, and not old news."""
    backlog = engine.store.alerts.backlog(article_ids)
    oldest = dt.datetime.fromtimestamp(now - MAX_AGE, dt.UTC).date().isoformat()
    found = []
    for article_id in dict.fromkeys(article_ids):
        article = engine.store.article(article_id)
        if article is None or article.duplicate_of or article_id in backlog:
            continue
        if article.published and article.published[:10] < oldest:
            continue
        found.append(article)
    return found


def since_date(value: str, *, now: float | None = None) -> str:
    """The ISO date a `--since` value names: a duration back from now ("7d", "24h") or a date
    (YYYY-MM-DD). AlertError for anything else."""
    text = (value or "").strip().lower()
    if match := _DURATION.fullmatch(text):
        amount, unit = int(match.group(1)), match.group(2)
        if not 0 < amount <= 3650 * (24 if unit == "h" else 1):
            raise AlertError(f"{value!r} is out of range: between 1 hour and 10 years")
        seconds = amount * (3600 if unit == "h" else 86400)
        return dt.datetime.fromtimestamp(_now(now) - seconds, dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise AlertError(f"{value!r} is neither a duration (7d, 24h) nor a date (YYYY-MM-DD)") from None


def test(engine: Engine, topic: str, *, viewer: str | None, since: str | None = None) -> list[AlertMatch]:
    """The stories `viewer` sees (published since `since`, an ISO date) that the topic matches with
    the live rule and threshold, best first, one row per story."""
    try:
        topic = clean_topic(topic)
    except TopicError as error:
        raise AlertError(str(error)) from None
    terms, vector = topic_terms(topic), engine.embedder.embed([topic])[0]
    found = []
    for article in engine.articles(since=since, viewer=viewer):
        evidence = ArticleText(engine, article).evidence(terms, vector)
        if evidence.matches():
            start, end = excerpt(engine, article, terms, vector)
            found.append(_match(engine, article, evidence.score(), start, end, viewer))
    return sorted(found, key=lambda m: -m.score)


def _match(engine: Engine, article: Article, score: float, start: int, end: int,
           viewer: str | None) -> AlertMatch:  # fmt: skip
    outlets = tuple(o for o in engine.outlets_of(article.id, viewer=viewer) if o and o != article.source)
    return AlertMatch(
        article_id=article.id, title=article.title, source=article.source, published=article.published,
        url=article.url, score=score, excerpt=article.body[start:end], start=start, end=end,
        other_outlets=outlets,
    )  # fmt: skip


# -- delivering ------------------------------------------------------------------------------------


def deliveries(engine: Engine, *, per_hour: int | None = None, now: float | None = None,
               digest_channels: Iterable[int] = ()) -> list[Delivery]:  # fmt: skip
    """Claim and return what may be sent now, per channel or member: first, when the hourly cap has
    room, the stories deferred earlier as one compact message per topic (unless the channel has a digest,
    whose post lists them: `digest_channels`); then new matches, one message each, up to the cap. New
    matches past the cap are marked deferred."""
    now = _now(now)
    cap = per_hour or engine.settings.alerts_per_hour
    store = engine.store.alerts
    by_target: dict[str, list[dict]] = defaultdict(list)
    for row in store.posts(("pending", "deferred", "claimed")):
        if row["state"] != "claimed" or row["claimed_at"] < now - CLAIM_TTL:
            by_target[row["target"]].append(row)
    digests = {f"channel:{c}" for c in digest_channels}
    out: list[Delivery] = []
    for target, rows in by_target.items():
        room = cap - store.sent_since(target, now - HOUR)
        waiting = [r for r in rows if r["state"] == "deferred"]
        fresh = [r for r in rows if r["state"] != "deferred"]
        if waiting and room > 0 and target not in digests:
            out.extend(_more(engine, target, waiting, now))
            room -= 1
        posting, deferring = fresh[: max(room, 0)], fresh[max(room, 0) :]
        if deferring:
            store.set_posts([(r["alert_id"], r["story_id"]) for r in deferring], "deferred")
        for row in posting:
            delivery = _story(engine, row, now)
            if delivery is not None:
                out.append(delivery)
    return out


def _story(engine: Engine, row: dict, now: float) -> Delivery | None:
    key = (row["alert_id"], row["story_id"])
    article = engine.store.article(row["story_id"])
    if article is None:  # removed since it matched
        engine.store.alerts.set_posts([key], "failed")
        return None
    if not engine.store.alerts.claim([key], now, stale_before=now - CLAIM_TTL):
        return None  # another poster won it
    start, end = _within(article, row["start"], row["end"])
    match = _match(engine, article, row["score"], start, end, row["scope"])
    return Delivery(row["target"], row["scope"], row["topic"], [match], [key])


def _more(engine: Engine, target: str, rows: list[dict], now: float) -> list[Delivery]:
    by_topic: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_topic[row["alert_id"]].append(row)
    out = []
    for topic_rows in by_topic.values():
        keys = engine.store.alerts.claim(
            [(r["alert_id"], r["story_id"]) for r in topic_rows], now, stale_before=now - CLAIM_TTL
        )
        matches = []
        for alert_id, story_id in keys:
            row = next(r for r in topic_rows if (r["alert_id"], r["story_id"]) == (alert_id, story_id))
            article = engine.store.article(story_id)
            if article is not None:
                start, end = _within(article, row["start"], row["end"])
                matches.append(_match(engine, article, row["score"], start, end, row["scope"]))
        if keys:
            first = topic_rows[0]
            out.append(Delivery(target, first["scope"], first["topic"], matches, keys, more=True))
    return out


def _within(article: Article, start: int, end: int) -> tuple[int, int]:
    """The stored excerpt's offsets, or the first sentence's if the article changed since."""
    if 0 <= start < end <= len(article.body):
        return start, end
    return 0, min(len(article.body), 300)


def mark_sent(engine: Engine, delivery: Delivery, *, now: float | None = None) -> None:
    """Discord accepted the delivery: its posts are never offered again."""
    state = "delivered" if delivery.more else "posted"
    engine.store.alerts.set_posts(delivery.keys, state, now=_now(now))


def mark_unsent(engine: Engine, delivery: Delivery, *, failed: bool) -> None:
    """The delivery was not sent: offered again at the next round, or (`failed`) never."""
    engine.store.alerts.set_posts(
        delivery.keys, "failed" if failed else ("deferred" if delivery.more else "pending")
    )


def deferred_for(engine: Engine, channel_id: int) -> list[str]:
    """The stories matched for a channel's alerts but deferred past the hourly cap (for its digest)."""
    rows = engine.store.alerts.posts(("deferred",), target=f"channel:{_id(channel_id)}")
    return list(dict.fromkeys(r["story_id"] for r in rows))


def mark_delivered(
    engine: Engine, channel_id: int, story_ids: Iterable[str], *, now: float | None = None
) -> None:
    """A digest listed these deferred stories in the channel: they are not sent again."""
    wanted = set(story_ids)
    rows = engine.store.alerts.posts(("deferred",), target=f"channel:{_id(channel_id)}")
    keys = [(r["alert_id"], r["story_id"]) for r in rows if r["story_id"] in wanted]
    engine.store.alerts.set_posts(keys, "delivered", now=_now(now))
