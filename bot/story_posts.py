"""Pure rendering of new stories posted to a feed's channel: one embed per story, a few per cycle.

Each embed holds the story's title (linked), its lead sentence quoted verbatim, the outlet and date, and the
other outlets of that server that carried it. A channel gets at most `PER_CYCLE` stories per cycle; the rest
become one "and N more" line. Every message says which stories it carries, so the caller marks a story
posted only once Discord accepted the message that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .render import Outgoing, build_embeds, pack_messages, when

PER_CYCLE = 5  # stories posted to one channel per cycle; more are counted in one "and N more" line


class NewStory(Protocol):
    """What the engine offers for a new story (index.live's pending post), read by name."""

    story_id: str
    title: str
    source: str | None
    published: str | None
    lead: str
    url: str | None
    also: Sequence[str]


@dataclass
class StoryMessage:
    """A message to send and the stories it carries (`story_ids`, marked posted once it is accepted)."""

    message: Outgoing
    story_ids: list[str] = field(default_factory=list)


def quoted(text: str) -> str:
    """The sentence as a Markdown quote, every line of it (the words themselves unchanged)."""
    return "\n".join(f"> {line}" for line in text.strip().splitlines() or [""])


def story_embeds(story: NewStory) -> list:
    """One story's embed (more only if its text exceeds an embed's limits: split, never cut)."""
    byline = f"— **{story.source or 'unknown outlet'}**, {when(story.published)}"
    body = f"{quoted(story.lead)}\n{byline}" if story.lead.strip() else byline
    if story.also:
        body += f"\nAlso carried by {', '.join(story.also)}"
    return build_embeds(title=story.title, url=story.url, body=body)


def more_line(count: int, feed_title: str | None = None) -> str:
    what = f"new stor{'y' if count == 1 else 'ies'}"
    where = f" from {feed_title}" if feed_title else ""
    return f"…and {count} more {what}{where}: `/latest` lists them."


def channel_messages(
    stories: Sequence[NewStory], *, more: int = 0, limit: int = PER_CYCLE
) -> list[StoryMessage]:
    """The messages for one channel's new stories: the first `limit` as embeds, the rest (and `more`
    the engine held back) as one "and N more" line carried by the last message, or a message of its own."""
    shown, rest = list(stories[:limit]), list(stories[limit:])
    result: list[StoryMessage] = []
    for story in shown:
        parts = pack_messages(story_embeds(story))
        for i, part in enumerate(parts):
            result.append(StoryMessage(part, [story.story_id] if i == len(parts) - 1 else []))
    extra = len(rest) + more
    if extra:
        line = more_line(extra)
        rest_ids = [s.story_id for s in rest]
        last = result[-1] if result else None
        if last is not None and last.message.content is None:
            last.message.content = line
            last.story_ids.extend(rest_ids)
        else:
            result.append(StoryMessage(Outgoing(content=line), rest_ids))
    return result
