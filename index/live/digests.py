"""Digests: a period's top stories of a viewer's news, and the schedules that post them to channels.

`digest` is the content: the stories of the period (near-duplicate copies are one story), ranked by how
many outlets carried them, each a headline with one or two verbatim, cited sentences: a `Summary`, with
the counts a header needs. With a topic, only the stories the topic summary's retrieval finds about it.

Schedules ("daily 08:00 Europe/Paris", digest_times.py) belong to a server's scope and post to one of
its channels. `claim_due` is what a bot runs every minute: for each schedule whose latest due time has
no run yet, it claims the run (a unique (schedule, due) row inserted in a write transaction: one process
of a data folder gets it) and builds its digest; the caller posts it and records the outcome with
`finish_run`. Only the latest due time is ever made, so a bot that was down makes one missed run, never
several, and a run is never made twice (a crash between claim and post loses that run: the next one's
period starts from the last posted run, so its stories are not lost). A run's period is since the
previous posted run (or one day or week before the first), and a story a schedule already posted is not
posted by it again.

Topic alerts of a channel with a schedule (`digest_channels`) defer their stories past the hourly cap to
its digest: a run lists them (`DigestRun.alert_stories`, titles and links) and `finish_run` marks them
delivered (index.live.alerts.mark_delivered) only once the run was delivered, so a failed run leaves them
for the next.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..answers import cite, extract
from ..answers.candidates import ArticleCache
from ..answers.cluster import Story, group_stories
from ..answers.summarize import PERIOD_ARTICLES, _story_points, topic_evidence
from ..engine import Engine
from ..models import Article, Summary
from ..scopes import parse_scope
from . import alerts
from .digest_times import When, WhenError, latest_due, local_text, next_due, parse_when

log = logging.getLogger(__name__)

DIGEST_POINTS = 12  # points of a digest (a story has one or two)
MAX_DIGEST_POINTS = 30
MAX_SCHEDULES = 10  # per server
TOPIC_CHARS = (2, 200)
REMEMBER = timedelta(days=8)  # how far back a schedule's posted stories are kept out of its next run


class DigestError(ValueError):
    """Bad input for a digest command (schedule, topic, id, limit): nothing was changed."""


@dataclass(frozen=True)
class Digest(Summary):
    """A digest: a Summary (points, citations: `to_json` is `summary --json`'s) with what its header says."""

    stories: int = 0
    outlets: tuple[str, ...] = ()
    story_ids: tuple[str, ...] = ()  # every article of the stories shown (kept out of the next run)

    @property
    def tally(self) -> str:
        """ "4 stories from 7 outlets"."""
        stories = f"{self.stories} stor{'y' if self.stories == 1 else 'ies'}"
        return f"{stories} from {len(self.outlets)} outlet{'' if len(self.outlets) == 1 else 's'}"


# -- the content -----------------------------------------------------------------------------------


def digest(
    engine: Engine,
    *,
    viewer: str | None,
    since: date | datetime | str,
    until: date | datetime | str,
    topic: str | None = None,
    max_points: int = DIGEST_POINTS,
    exclude: Collection[str] = (),
) -> Digest:
    """The top stories of `viewer`'s news published from `since` to `until` (dates, inclusive: a datetime
    counts by its local date, as article dates are days), biggest by outlets first, at most `max_points`
    points. Articles in `exclude` (what a schedule posted before) are left out before grouping, so a
    story posted before comes back only with articles it did not have then."""
    if not 1 <= max_points <= MAX_DIGEST_POINTS:
        raise DigestError(f"a digest has 1 to {MAX_DIGEST_POINTS} points, not {max_points}")
    start, end = _day(since), _day(until)
    if start > end:
        raise DigestError(f"the period ends ({end}) before it starts ({start})")
    engine = engine.viewed_by(viewer)
    title = _title(since, until, topic)
    cache = ArticleCache(engine)
    if topic is None:
        articles = engine.articles(since=start, until=end, limit=PERIOD_ARTICLES)
    else:
        articles = _about(engine, topic, start, end)
    articles = [a for a in articles if a.id not in exclude]
    for a in articles:
        cache.put(a)
    stories = _ranked(group_stories(engine, articles))
    shown = _within(stories, max_points)
    if not shown:
        return Digest("digest", title, (), ())
    groups, headings = _story_points(shown)
    points, citations = cite.number(groups, cache.get, headings=headings)
    cite.check(points, citations, cache.get)
    outlets = tuple(dict.fromkeys(o for s in shown for o in s.outlets))
    ids = tuple(a.id for s in shown for a in s.articles)
    return Digest("digest", title, points, citations, len(shown), outlets, ids)


def _about(engine: Engine, topic: str, start: str, end: str) -> list[Article]:
    """The articles of the period the topic summary picks its points from (the same retrieval, evidence
    gate and selection: `/summary topic` over the period names the same stories)."""
    _, scored, found = topic_evidence(engine, topic, since=start, until=end)
    drafts = extract.select(scored, max_points=MAX_DIGEST_POINTS, per_article=1, floor=extract.TOPIC_FLOOR)
    ids = dict.fromkeys(s.article_id for d in drafts for s in d.sentences)
    return [a for aid in ids if (a := found.get(aid)) is not None]


def _ranked(stories: list[Story]) -> list[Story]:
    """By how many outlets carried each story, then its size (group_stories' order breaks ties)."""
    return sorted(stories, key=lambda s: (-len(s.outlets), -s.size))


def _within(stories: list[Story], max_points: int) -> list[Story]:
    shown, used = [], 0
    for story in stories:
        need = len(story.sentences[:2])
        if used + need > max_points:
            if used + 1 > max_points:
                break
            story = Story(story.headline, story.articles, story.sentences[:1], story.size, story.outlets)
            need = 1
        shown.append(story)
        used += need
    return shown


def _day(value: date | datetime | str) -> str:
    if isinstance(value, datetime | date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise DigestError(f"not a date: {value!r} (expected YYYY-MM-DD)") from None


def _title(since: date | datetime | str, until: date | datetime | str, topic: str | None) -> str:
    about = f" on {topic.strip()}" if topic else ""
    if isinstance(since, datetime) and isinstance(until, datetime):
        return f"News digest{about}, {_shown(since)} to {_shown(until)}"
    start, end = _day(since), _day(until)
    return f"News digest{about}, {start} to {end}" if start != end else f"News digest{about} of {start}"


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


# -- schedules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    id: int
    scope: str
    channel_id: int
    when: When
    topic: str | None
    added_by: str | None
    created_at: float
    paused: bool = False  # the bot left its server: no runs until it is back

    @classmethod
    def from_row(cls, row: dict) -> Schedule:
        return cls(
            row["id"], row["scope"], row["channel_id"], parse_when(row["schedule"]), row["topic"],
            row["added_by"], row["created_at"], bool(row.get("paused")),
        )  # fmt: skip

    def next_run(self, now: float) -> float:
        return next_due(self.when, max(now, self.created_at))

    def to_json(self, now: float | None = None) -> dict:
        upcoming = self.next_run(time.time() if now is None else now)
        return {
            "id": self.id, "scope": self.scope, "channel_id": self.channel_id, "when": str(self.when),
            "topic": self.topic, "next_run": local_text(upcoming, self.when.zone),
        }  # fmt: skip


def add_schedule(
    engine: Engine,
    *,
    scope: str,
    channel_id: int,
    when: str,
    topic: str | None = None,
    added_by: str | None = None,
    now: float | None = None,
) -> Schedule:
    """A new schedule of `scope` posting to `channel_id`; DigestError for a bad time, day, zone or topic,
    or past the limit of MAX_SCHEDULES per server."""
    try:
        parsed = parse_when(when)
        parse_scope(scope)
    except (WhenError, ValueError) as error:
        raise DigestError(str(error)) from None
    topic = _topic(topic)
    row = {
        "scope": scope, "channel_id": channel_id, "schedule": str(parsed), "topic": topic,
        "added_by": added_by, "created_at": time.time() if now is None else now,
    }  # fmt: skip
    new_id = engine.store.digests.add(row, limit=MAX_SCHEDULES)
    if new_id is None:
        raise DigestError(f"this server already has {MAX_SCHEDULES} digest schedules: remove one first")
    return Schedule.from_row({**row, "id": new_id})


def _topic(topic: str | None) -> str | None:
    if topic is None or not topic.strip():
        return None
    topic = " ".join(topic.split())
    low, high = TOPIC_CHARS
    if not low <= len(topic) <= high:
        raise DigestError(f"a topic is {low} to {high} characters, not {len(topic)}")
    return topic


def schedules(engine: Engine, scope: str | None = None) -> list[Schedule]:
    return [Schedule.from_row(r) for r in engine.store.digests.schedules(scope)]


def remove_schedule(engine: Engine, schedule_id: int, *, scope: str) -> Schedule:
    """Remove a schedule of `scope`; DigestError if `scope` has no schedule with that id."""
    row = engine.store.digests.schedule(schedule_id)
    if row is None or row["scope"] != scope or not engine.store.digests.remove(schedule_id, scope):
        raise DigestError(f"this server has no digest schedule #{schedule_id} (`/digest list` shows them)")
    return Schedule.from_row(row)


def digest_channels(engine: Engine) -> set[int]:
    """The channels a schedule posts to: their alerts' stories past the hourly cap wait for the digest."""
    return {s.channel_id for s in schedules(engine) if not s.paused}


def pause_scope(engine: Engine, scope: str) -> int:
    """The bot left the scope's server: its schedules make no runs until `resume_scope`. How many."""
    return engine.store.digests.set_paused(_scope(scope), True)


def resume_scope(engine: Engine, scope: str) -> int:
    """The bot is back in the scope's server: its schedules run again (a due time missed while away is
    made once, as after the bot was down). How many."""
    return engine.store.digests.set_paused(_scope(scope), False)


def _scope(scope: str) -> str:
    try:
        return parse_scope(scope)
    except ValueError as error:
        raise DigestError(f"bad scope: {error}") from None


def remove_channel(engine: Engine, channel_id: int) -> int:
    """Drop the schedules of a deleted channel; how many there were."""
    return engine.store.digests.remove_channel(channel_id)


# -- runs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertStory:
    """A story the channel's alerts matched past their hourly cap, listed by its digest."""

    story_id: str
    title: str
    url: str | None
    source: str | None


@dataclass
class DigestRun:
    """A claimed run: post `digest` (and `alert_stories`) to the schedule's channel, then `finish_run`.
    `deferred_ids` are every deferred alert story it delivers (`alert_stories` leaves out the digest's
    own stories)."""

    schedule: Schedule
    due: float
    since: float
    digest: Digest
    story_ids: list[str] = field(default_factory=list)
    alert_stories: list[AlertStory] = field(default_factory=list)
    deferred_ids: list[str] = field(default_factory=list)

    @property
    def has_content(self) -> bool:
        return bool(self.digest.points or self.alert_stories)

    @property
    def period(self) -> str:
        zone = self.schedule.when.zone
        return f"{local_text(self.since, zone)} to {local_text(self.due, zone)}"


def due_schedules(engine: Engine, now: float) -> list[tuple[Schedule, float]]:
    """The schedules whose latest due time (at or before `now`, after they were made) has no run."""
    found = []
    for schedule in schedules(engine):
        if schedule.paused:
            continue
        due = latest_due(schedule.when, now)
        if due > schedule.created_at and not engine.store.digests.has_run(schedule.id, due):
            found.append((schedule, due))
    return found


def claim_due(engine: Engine, *, now: float | None = None) -> list[DigestRun]:
    """Claim every due run this process is first to and build its digest (a run whose digest fails is
    recorded as failed, never retried)."""
    now = time.time() if now is None else now
    runs: list[DigestRun] = []
    for schedule, due in due_schedules(engine, now):
        previous = engine.store.digests.last_finished(schedule.id, due)
        since = previous["due"] if previous else (_local(due, schedule) - schedule.when.period).timestamp()
        if not engine.store.digests.claim(schedule.id, due, since, now):
            continue  # another process has it
        try:
            posted = engine.store.digests.delivered_stories(schedule.id, since - REMEMBER.total_seconds())
            made = digest(
                engine, viewer=schedule.scope, since=_local(since, schedule), until=_local(due, schedule),
                topic=schedule.topic, exclude=posted,
            )  # fmt: skip
        except Exception as error:
            log.exception("digest #%s due %s could not be made", schedule.id, due)
            engine.store.digests.finish(schedule.id, due, "failed", now, reason=f"could not be made: {error}")
            continue
        run = DigestRun(schedule, due, since, made, list(made.story_ids))
        if all(r.schedule.channel_id != schedule.channel_id for r in runs):  # one run of a channel lists them
            _add_deferred(engine, run)
        runs.append(run)
    return runs


def _add_deferred(engine: Engine, run: DigestRun) -> None:
    """The channel's alert stories deferred past the hourly cap; those the digest shows are not listed
    twice (but delivered with it all the same)."""
    run.deferred_ids = alerts.deferred_for(engine, run.schedule.channel_id)
    shown = set(run.story_ids)
    for story_id in run.deferred_ids:
        article = engine.store.article(story_id)
        if article is not None and story_id not in shown:
            run.alert_stories.append(AlertStory(story_id, article.title, article.url, article.source))


def finish_run(
    engine: Engine, run: DigestRun, status: str, *, reason: str | None = None, now: float | None = None
) -> None:
    """Record what became of a claimed run: "delivered" (Discord accepted it), "empty" (nothing new,
    nothing posted) or "failed" (with the reason)."""
    if status not in ("delivered", "empty", "failed"):
        raise ValueError(f"not a run outcome: {status!r}")
    now = time.time() if now is None else now
    stories = run.story_ids if status == "delivered" else []
    engine.store.digests.finish(run.schedule.id, run.due, status, now, stories=stories, reason=reason)
    if status == "delivered" and run.deferred_ids:
        alerts.mark_delivered(engine, run.schedule.channel_id, run.deferred_ids, now=now)


def runs(engine: Engine, schedule_id: int) -> list[dict]:
    return engine.store.digests.runs(schedule_id)


def preview(
    engine: Engine, *, viewer: str, topic: str | None = None, now: float | None = None, zone: str = "UTC"
) -> Digest:
    """What a daily digest made now would hold (`/digest now`): the last day's top stories."""
    until = datetime.fromtimestamp(time.time() if now is None else now, ZoneInfo(zone))
    return digest(engine, viewer=viewer, since=until - timedelta(days=1), until=until, topic=_topic(topic))


def _local(moment: float, schedule: Schedule) -> datetime:
    return datetime.fromtimestamp(moment, UTC).astimezone(schedule.when.tz)
