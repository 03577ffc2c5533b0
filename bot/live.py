"""Live news inside the bot: the engine's poller in a worker thread, and new stories posted to channels.

The poller (index.live.Poller) runs its schedule in a thread of its own (unless NEWSBOT_POLL=false, for an
operator who runs `newsbot watch` elsewhere), so a cycle never blocks the event loop. Posting runs on the
event loop whoever polled: after each cycle of this bot's poller, and every `POST_EVERY` seconds for the
cycles of other processes. A story is marked posted (index.live.mark_posted) only once Discord accepted
the message carrying it: a crash before that offers it again. Each message carries a nonce naming the
story and channel (Discord's enforce_nonce), so a story offered again within minutes of a crash that
came after Discord accepted it but before it was marked is answered with the message already made.

A channel the bot cannot post to is never retried in a loop: missing permissions are seen in the cache
before any request, a deleted channel detaches its feeds, a refusal from Discord waits `BACKOFF` seconds;
each is written to the feeds' last error once.

Several processes may share one store (a `newsbot watch`, other bots on other shards): polling runs
only while this process holds the poll lease, posting only while it holds the post lease
(index/coordination.py), so each happens in one process at a time and another takes over when it
dies. The post lease's holder posts to every channel, its shards' or not (Discord's REST API takes a
message for any channel the bot may see): a channel of another shard's server is not in its cache, so
its permissions are not checked first, and a refusal waits `BACKOFF` like any other.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from index.coordination import POLL, POST, LeaseKeeper, work_lease
from index.live import ChannelPosts, CycleReport, Poller, mark_posted, pending_posts
from index.live.channels import departed_scopes, pause_server, post_failed, resume_server
from index.scopes import guild_scope

from .digests import DigestPoster
from .permissions import missing_permissions, permission_names
from .rounds import repeat
from .story_posts import channel_messages

if TYPE_CHECKING:
    from .client import NewsBot

log = logging.getLogger(__name__)

POST_EVERY = 60.0  # seconds between looks for stories other processes' cycles found
BACKOFF = 600.0  # seconds a channel Discord refused is left alone


class LiveNews:
    """The poller thread and the poster task of one bot; `start` in setup_hook, `close` on the way out."""

    def __init__(self, bot: NewsBot, *, now: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.poller = Poller(bot.engine, now=now)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poster: asyncio.Task | None = None
        self._posts_due = asyncio.Event()
        self._posting = asyncio.Lock()
        self._refused_until: dict[int, float] = {}  # channel id -> monotonic time to try again
        self._noted: dict[int, str] = {}  # channel id -> the problem last written to its feeds
        self.digests = DigestPoster(bot, now=now)  # scheduled digests (bot/digests.py)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.keepers: dict[str, LeaseKeeper] = {}  # lease name -> its keeper (POLL only when polling)

    # -- lifetime -------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        names = (POLL, POST) if self.bot.settings.poll else (POST,)
        for name in names:  # (each takes its lease at once if free: a database round trip, off the loop)
            keeper = LeaseKeeper(work_lease(self.bot.engine.settings, name), on_change=self._lease_changed)
            self.keepers[name] = await asyncio.to_thread(keeper.start)
            self.bot.engine.metrics.track_lease(keeper)
        if self.bot.settings.poll:
            self._thread = threading.Thread(
                target=self._poll, args=(loop,), name="newsbot-poller", daemon=True
            )
            self._thread.start()
        self._poster = asyncio.create_task(self._post_loop(), name="newsbot-poster")
        self.digests.start()
        self.bot.alerts.start()

    def _poll(self, loop: asyncio.AbstractEventLoop) -> None:
        def cycle_done(report: CycleReport) -> None:  # (in this thread: hand over to the event loop)
            if loop.is_closed():
                return
            if report.new_articles or report.updated_articles:
                loop.call_soon_threadsafe(self.bot.invalidate_choices)
            loop.call_soon_threadsafe(self._posts_due.set)
            loop.call_soon_threadsafe(self.bot.alerts.wake)

        self.poller.run_forever(self._stop, on_cycle=cycle_done, may_run=self.keepers[POLL].held)

    def _lease_changed(self, held: bool, holder: str | None) -> None:
        """(from a keeper's thread) Gaining the post lease: post what waits now, not in a minute."""
        loop = self._loop
        if held and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._posts_due.set)

    def holds(self, name: str) -> bool:
        keeper = self.keepers.get(name)
        return keeper is not None and keeper.held()

    async def close(self) -> None:
        self._stop.set()
        await self.digests.close()
        await self.bot.alerts.close()
        if self._poster is not None:
            async with self._posting:  # a round under way ends first: what Discord accepted is marked
                self._poster.cancel()
        if self._thread is not None:  # a feed being checked finishes; no other starts
            await asyncio.to_thread(self._thread.join)
        for keeper in self.keepers.values():  # released: another process takes over at its next try
            self.bot.engine.metrics.untrack_lease(keeper)
            await asyncio.to_thread(keeper.close)
        self.keepers.clear()

    # -- cycles and posting ---------------------------------------------------------------------

    async def run_cycle(self, *, force: bool = False) -> CycleReport:
        """One cycle now, then its stories posted (what the poller thread does on its schedule)."""
        report = await self.bot.run_admin(self.poller.run_once, force)
        if report.new_articles or report.updated_articles:
            self.bot.invalidate_choices()
        await self.post_pending()
        await self.bot.alerts.run_round()
        return report

    async def _post_loop(self) -> None:
        await self.bot.wait_until_ready()
        await repeat(
            self.post_pending,
            every=POST_EVERY,
            due=self._posts_due,
            what="posting new stories",
            failed=lambda: self.bot.engine.metrics.failed("post"),
        )

    async def post_pending(self) -> int:
        """Post every channel's new stories; returns how many messages Discord accepted (none unless
        this process holds the post lease: another process posts them)."""
        if not self.holds(POST):
            return 0
        async with self._posting:
            offers = await asyncio.to_thread(pending_posts, self.bot.engine)
            sent = 0
            for offer in offers:
                sent += await self._post_offer(offer)
            return sent

    async def _post_offer(self, offer: ChannelPosts) -> int:
        channel_id = offer.channel_id
        if self._refused_until.get(channel_id, 0.0) > time.monotonic():
            return 0
        channel = await self._channel(channel_id)
        if channel is None:
            return 0
        if missing := missing_permissions(channel):
            await self._note(
                channel_id, f"cannot post in #{channel.name}: missing {permission_names(missing)}"
            )
            return 0
        sent = 0
        for part in channel_messages(offer):
            try:
                await channel.send(**part.message.kwargs(), nonce=part.nonce)
            except discord.NotFound:
                await self._gone(channel_id)
                return sent
            except discord.Forbidden:
                self._refused_until[channel_id] = time.monotonic() + BACKOFF
                await self._note(channel_id, f"Discord refused posting in #{channel.name} (missing access)")
                return sent
            except discord.HTTPException:
                log.warning("could not post to channel %s; trying again later", channel_id, exc_info=True)
                self.bot.engine.metrics.failed("post")
                return sent
            sent += 1
            if part.story_ids:
                await self.bot.run_admin(
                    mark_posted, self.bot.engine, offer.scope, part.story_ids, channel_id=channel_id
                )
        self._noted.pop(channel_id, None)
        return sent

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(channel_id)
        if channel is not None:
            return channel if isinstance(channel, discord.abc.GuildChannel | discord.Thread) else None
        try:  # not cached: a thread, or a channel deleted while the bot was away
            fetched = await self.bot.fetch_channel(channel_id)
        except discord.NotFound:
            await self._gone(channel_id)
            return None
        except discord.HTTPException:  # no access (the bot left that server) or Discord is unwell
            self._refused_until[channel_id] = time.monotonic() + BACKOFF
            return None
        return fetched if isinstance(fetched, discord.abc.GuildChannel | discord.Thread) else None

    async def _gone(self, channel_id: int) -> None:
        log.warning("channel %s was deleted: its feeds post nowhere now", channel_id)
        reason = (
            "its channel was deleted: new stories are no longer posted (add the feed again with a channel)"
        )
        await self.bot.run_admin(post_failed, self.bot.engine, channel_id, reason, stop=True)
        self._noted.pop(channel_id, None)

    async def _note(self, channel_id: int, reason: str) -> None:
        """Write a posting problem to the channel's feeds once (not on every round while it lasts)."""
        if self._noted.get(channel_id) == reason:
            return
        log.warning("feeds of channel %s: %s", channel_id, reason)
        self._noted[channel_id] = reason
        await self.bot.run_admin(post_failed, self.bot.engine, channel_id, reason)

    # -- servers joined and left ----------------------------------------------------------------

    async def guild_left(self, guild_id: int) -> None:
        paused = await self.bot.run_admin(pause_server, self.bot.engine, guild_scope(guild_id))
        log.info("left server %s: paused %s", guild_id, paused)

    async def guild_joined(self, guild_id: int) -> None:
        resumed = await self.bot.run_admin(resume_server, self.bot.engine, guild_scope(guild_id))
        if resumed:
            log.info("back in server %s: resumed %s", guild_id, resumed)

    async def pause_departed(self) -> list[str]:
        """On start: pause the feeds, alerts and digests of servers the bot was removed from while it was
        not running."""
        guild_ids = [g.id for g in self.bot.guilds]
        scopes = await asyncio.to_thread(departed_scopes, self.bot.engine, guild_ids)
        for scope in scopes:
            paused = await self.bot.run_admin(pause_server, self.bot.engine, scope)
            log.info("no longer in %s: paused %s", scope, paused)
        return scopes
