"""New stories for the channels feeds post to: what to post, and the record of what was posted.

A story (a main article and its near-duplicate copies) is offered once per scope: when several feeds
of a server carried it, it goes to the channel of the first that did, naming the other outlets. The
entries of a feed's first poll are its backlog and are not offered. What the bot posted is recorded
only when it says so (`mark_posted`): a crash before posting offers the story again, never twice after.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..engine import Engine
from ..text import sentence_spans
from . import schedule

POSTS_PER_CHANNEL = 5  # per cycle; the rest become one "and N more" line


@dataclass(frozen=True)
class StoryPost:
    story_id: str
    title: str
    outlet: str | None
    published: str | None
    lead: str  # the story's first sentence, verbatim: body[lead_start:lead_end]
    lead_start: int
    lead_end: int
    url: str | None
    other_outlets: tuple[str, ...]  # other outlets of this scope's feeds that carried the story

    def to_json(self) -> dict:
        return {
            "story_id": self.story_id, "title": self.title, "outlet": self.outlet,
            "published": self.published, "lead": self.lead, "lead_start": self.lead_start,
            "lead_end": self.lead_end, "url": self.url, "other_outlets": list(self.other_outlets),
        }  # fmt: skip


@dataclass
class ChannelPosts:
    channel_id: int
    scope: str
    posts: list[StoryPost] = field(default_factory=list)
    more_ids: list[str] = field(default_factory=list)  # the stories past the cap ("and N more")

    @property
    def more(self) -> int:
        return len(self.more_ids)

    @property
    def story_ids(self) -> list[str]:
        """Every story this offer covers: what to pass to mark_posted once it is posted."""
        return [p.story_id for p in self.posts] + self.more_ids


def pending_posts(engine: Engine, *, per_channel: int = POSTS_PER_CHANNEL) -> list[ChannelPosts]:
    """Per channel, the new stories not yet posted in its scope (oldest first, at most `per_channel`,
    the others counted in `more_ids`)."""
    stories: dict[tuple[str, str], dict] = {}
    carriers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in engine.store.feeds.unposted():
        key = (row["scope"], row["story_id"])
        stories.setdefault(key, row)  # the first feed that carried it (oldest entry, lowest id)
        carriers[key].append(row["article_id"])
    offers: dict[int, ChannelPosts] = {}
    for (scope, story_id), row in stories.items():
        offer = offers.setdefault(row["channel_id"], ChannelPosts(row["channel_id"], scope))
        if len(offer.posts) >= per_channel:
            offer.more_ids.append(story_id)
            continue
        post = _post(engine, story_id, carriers[(scope, story_id)])
        if post is None:
            continue  # removed meanwhile
        offer.posts.append(post)
    return list(offers.values())


def mark_posted(
    engine: Engine,
    scope: str,
    story_ids: Iterable[str],
    *,
    channel_id: int | None = None,
    now: float | None = None,
) -> None:
    """Record that these stories were posted in `scope` (they are never offered there again)."""
    engine.store.feeds.mark_posted(
        scope, story_ids, channel_id, schedule.iso(time.time() if now is None else now)
    )


def _post(engine: Engine, story_id: str, carried: list[str]) -> StoryPost | None:
    article = engine.article(story_id)
    if article is None:
        return None
    spans = sentence_spans(article.body)
    start, end = spans[0] if spans else (0, len(article.body))
    others = []
    for article_id in dict.fromkeys(carried):
        copy = engine.article(article_id) if article_id != story_id else None
        if copy is not None and copy.source and copy.source != article.source and copy.source not in others:
            others.append(copy.source)
    return StoryPost(
        story_id=story_id, title=article.title, outlet=article.source, published=article.published,
        lead=article.body[start:end], lead_start=start, lead_end=end, url=article.url,
        other_outlets=tuple(others),
    )  # fmt: skip
