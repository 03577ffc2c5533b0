"""Pure rendering of new stories posted to a feed's channel: one embed per story, a few per cycle.

Each embed holds the story's title (linked), its lead sentence quoted verbatim, the outlet and date, and the
other outlets of that server that carried it. The engine offers at most a few stories per channel per cycle
(index.live.posts); the rest become one "and N more" line. Every message says which stories it carries,
so the caller marks a story posted only once Discord accepted the message that holds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import discord

from .render import Outgoing, build_embeds, pack_messages, when


class NewStory(Protocol):
    """A new story as the engine offers it (index.live.StoryPost), read by name."""

    story_id: str
    title: str
    outlet: str | None
    published: str | None
    lead: str
    url: str | None
    other_outlets: Sequence[str]


class ChannelOffer(Protocol):
    """One channel's new stories (index.live.ChannelPosts): the first few, and the ids of the rest."""

    channel_id: int
    scope: str
    posts: Sequence[NewStory]
    more_ids: Sequence[str]


@dataclass
class StoryMessage:
    """A message to send and the stories it carries (`story_ids`, marked posted once it is accepted).

    `nonce` is the same each time this part of this story is offered to this channel: sent with
    `enforce_nonce`, Discord returns the message it already created for it within the last minutes
    instead of a second one (a crash after Discord accepted a post but before it was marked)."""

    message: Outgoing
    story_ids: list[str] = field(default_factory=list)
    nonce: str = ""


def quoted(text: str) -> str:
    """The sentence as a Markdown quote, every line of it (the words themselves unchanged)."""
    return "\n".join(f"> {line}" for line in text.strip().splitlines() or [""])


def story_embeds(story: NewStory) -> list[discord.Embed]:
    """One story's embed (more only if its text exceeds an embed's limits: split, never cut)."""
    byline = f"— **{story.outlet or 'unknown outlet'}**, {when(story.published)}"
    body = f"{quoted(story.lead)}\n{byline}" if story.lead.strip() else byline
    if story.other_outlets:
        body += f"\nAlso carried by {', '.join(story.other_outlets)}"
    return build_embeds(title=story.title, url=story.url, body=body)


def more_line(count: int) -> str:
    return f"…and {count} more new stor{'y' if count == 1 else 'ies'}: `/latest` lists them."


def channel_messages(offer: ChannelOffer) -> list[StoryMessage]:
    """The messages for one channel's new stories: one per story (the engine caps how many), then the
    rest as one "and N more" line, carried by the last story's message or sent on its own."""
    result: list[StoryMessage] = []
    for story in offer.posts:
        parts = pack_messages(story_embeds(story))
        for i, part in enumerate(parts):  # the story counts as posted with its last part
            ids = [story.story_id] if i == len(parts) - 1 else []
            result.append(StoryMessage(part, ids, nonce_for(offer, f"{story.story_id}#{i}")))
    if offer.more_ids:
        line = more_line(len(offer.more_ids))
        last = result[-1] if result else None
        if last is not None and last.message.content is None:
            last.message.content = line
            last.story_ids.extend(offer.more_ids)
        else:
            nonce = nonce_for(offer, "more:" + ",".join(offer.more_ids))
            result.append(StoryMessage(Outgoing(content=line), list(offer.more_ids), nonce))
    return result


def nonce_for(offer: ChannelOffer, what: str) -> str:
    """A message nonce (at most 25 characters) naming what is posted where."""
    return hashlib.sha256(f"{offer.scope}|{offer.channel_id}|{what}".encode()).hexdigest()[:25]
