"""Topic alerts inside the bot: after each poll cycle (and every minute, for what other processes ingested)
the engine matches the new stories (index.live.alerts.scan), then what may be sent now is posted: one
embed per story to a channel, or by DM to a member who follows the topic.

Rendering is pure (`alert_messages`): the story's title (linked), the one or two sentences that match the
topic quoted verbatim, its outlets and date; stories deferred past the hourly cap come as one compact
"N more stories on <topic>" message, or, in a channel with a digest schedule, in its next digest (passed
as `digest_channels`, bot/digests.py lists them). A post is marked sent only once Discord accepted every
message of it (index.live.alerts.mark_sent); each message carries a nonce naming the (alert, story), so a
post offered again after a crash that followed Discord's acceptance is answered with the message already
made.

Nothing is retried in a loop: missing permissions are seen in the cache before any request and noted once
on the channel's alerts; a deleted channel or a member's closed DMs pause their alerts (noted, until
the alert is added again); a refusal from Discord waits `BACKOFF` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from index.live import alerts
from index.live.digests import digest_channels

from .live import missing_permissions, permission_names
from .render import CONTENT_LIMIT, Outgoing, build_embeds, link, pack_messages, split_text, when
from .rounds import repeat
from .story_posts import quoted

if TYPE_CHECKING:
    from .client import NewsBot

log = logging.getLogger(__name__)

ALERT_EVERY = 60.0  # seconds between looks for stories other processes ingested
BACKOFF = 600.0  # seconds a channel Discord refused is left alone
DM_CLOSED = "Your DMs are closed to me: this alert is paused. Open them and `/follow` the topic again."


@dataclass
class AlertMessage:
    message: Outgoing
    nonce: str


def headline(delivery: alerts.Delivery) -> str:
    topic = discord.utils.escape_markdown(delivery.topic)
    return f"🔔 News on **{topic}**"


def story_embed(match: alerts.AlertMatch) -> list[discord.Embed]:
    """One story: title (linked), the matching sentences quoted verbatim, outlets and date."""
    outlets = ", ".join([match.source or "unknown outlet", *match.other_outlets])
    body = f"{quoted(match.excerpt)}\n— **{outlets}**, {when(match.published)}"
    return build_embeds(title=match.title, url=match.url, body=body)


def more_text(delivery: alerts.Delivery) -> str:
    count = len(delivery.matches)
    topic = discord.utils.escape_markdown(delivery.topic)
    lines = [f"🔔 {count} more stor{'y' if count == 1 else 'ies'} on **{topic}** this past hour:"]
    lines += [
        f"• {link(m.title, m.url)} — {m.source or 'unknown outlet'}, {when(m.published)}"
        for m in delivery.matches
    ]
    return "\n".join(lines)


def alert_messages(delivery: alerts.Delivery) -> list[AlertMessage]:
    """The messages of one delivery, each within Discord's limits (split, never cut)."""
    if delivery.more:
        parts = [Outgoing(content=p) for p in split_text(more_text(delivery), CONTENT_LIMIT)]
    else:
        parts = pack_messages(story_embed(delivery.matches[0]))
        parts[0].content = headline(delivery)
    key = ",".join(f"{a}:{s}" for a, s in delivery.keys)
    return [AlertMessage(part, nonce_for(delivery.target, f"{key}#{i}")) for i, part in enumerate(parts)]


def nonce_for(target: str, what: str) -> str:
    return hashlib.sha256(f"alert|{target}|{what}".encode()).hexdigest()[:25]


class AlertPoster:
    """Matches new stories and posts alerts; `start` with the live news, `close` on the way out."""

    def __init__(self, bot: NewsBot, *, now: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.now = now
        self._task: asyncio.Task | None = None
        self._due = asyncio.Event()
        self._lock = asyncio.Lock()
        self._refused_until: dict[str, float] = {}  # target -> monotonic time to try again
        self._noted: dict[str, str] = {}  # target -> the problem last written to its alerts

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="newsbot-alerts")

    def wake(self) -> None:
        """A poll cycle ended: look for new stories now."""
        self._due.set()

    async def close(self) -> None:
        if self._task is not None:
            async with self._lock:  # a round under way ends first: what Discord accepted is marked
                self._task.cancel()

    async def _loop(self) -> None:
        await self.bot.wait_until_ready()
        await repeat(self.run_round, every=ALERT_EVERY, due=self._due, what="topic alerts")

    async def run_round(self) -> int:
        """Match new stories, then post what may be sent now; returns how many deliveries were sent."""
        async with self._lock:
            engine = self.bot.engine
            await self.bot.run_admin(alerts.scan, engine, now=self.now())
            digested = await self.bot.run_admin(digest_channels, engine)  # their overflow waits for it
            due = await self.bot.run_admin(
                alerts.deliveries, engine, now=self.now(), digest_channels=digested
            )
            sent = 0
            for delivery in due:
                if await self._deliver(delivery):
                    sent += 1
                    await self.bot.run_admin(alerts.mark_sent, engine, delivery, now=self.now())
            return sent

    async def _deliver(self, delivery: alerts.Delivery) -> bool:
        """Send a delivery; on failure its posts are released (or dropped when they never can be)."""
        if self._refused_until.get(delivery.target, 0.0) > time.monotonic():
            return await self._unsent(delivery, failed=False)
        place = await self._place(delivery)
        if place is None:
            return False
        for part in alert_messages(delivery):
            try:
                await place.send(**part.message.kwargs(), nonce=part.nonce)
            except discord.NotFound:
                return await self._stop(delivery, "the channel was deleted: this alert is paused")
            except discord.Forbidden:
                if delivery.user_id is not None:
                    return await self._stop(delivery, DM_CLOSED)
                self._refused_until[delivery.target] = time.monotonic() + BACKOFF
                await self._note(delivery.target, "Discord refused posting there (missing access)")
                return await self._unsent(delivery, failed=False)
            except discord.HTTPException:
                log.warning(
                    "could not post an alert to %s; trying again later", delivery.target, exc_info=True
                )
                return await self._unsent(delivery, failed=False)
        self._noted.pop(delivery.target, None)
        return True

    async def _place(self, delivery: alerts.Delivery) -> discord.abc.Messageable | None:
        if delivery.user_id is not None:
            try:
                user = self.bot.get_user(delivery.user_id) or await self.bot.fetch_user(delivery.user_id)
                return await user.create_dm()
            except discord.NotFound:
                await self._stop(delivery, "the member is gone: this follow is paused")
            except discord.HTTPException:
                await self._unsent(delivery, failed=False)
            return None
        channel = self.bot.get_channel(delivery.channel_id or 0)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(delivery.channel_id or 0)
            except discord.NotFound:
                await self._stop(delivery, "the channel was deleted: this alert is paused")
                return None
            except discord.HTTPException:
                self._refused_until[delivery.target] = time.monotonic() + BACKOFF
                await self._unsent(delivery, failed=False)
                return None
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            await self._stop(delivery, "that is not a server channel: this alert is paused")
            return None
        if missing := missing_permissions(channel):
            await self._note(
                delivery.target, f"cannot post in #{channel.name}: missing {permission_names(missing)}"
            )
            await self._unsent(delivery, failed=False)
            return None
        return channel

    async def _unsent(self, delivery: alerts.Delivery, *, failed: bool) -> bool:
        await self.bot.run_admin(alerts.mark_unsent, self.bot.engine, delivery, failed=failed)
        return False

    async def _stop(self, delivery: alerts.Delivery, reason: str) -> bool:
        """Delivery there can never work: the posts are dropped and the target's alerts paused (noted)."""
        log.warning("alerts to %s paused: %s", delivery.target, reason)
        await self.bot.run_admin(alerts.delivery_failed, self.bot.engine, delivery.target, reason, stop=True)
        return await self._unsent(delivery, failed=True)

    async def _note(self, target: str, reason: str) -> None:
        """Write a posting problem to the target's alerts once (not on every round while it lasts)."""
        if self._noted.get(target) == reason:
            return
        log.warning("alerts to %s: %s", target, reason)
        self._noted[target] = reason
        await self.bot.run_admin(alerts.delivery_failed, self.bot.engine, target, reason)
