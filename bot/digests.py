"""Scheduled digests inside the bot: due runs claimed and posted to their channels.

Every `CHECK_EVERY` seconds (and once on start, which makes a run missed while the bot was down) the
engine claims the due runs (index.live.digests.claim_due, in the admin pool: a unique row per schedule
and due time, so two processes on one data folder never both post one) and builds their digests; each
is posted here, then recorded as delivered only once Discord accepted every message of it. Each message
carries a nonce naming the schedule, due time and part (Discord's enforce_nonce), and mentions nothing.

A run is never retried in a loop: missing permissions (read from the cache before any request), a
deleted channel (its schedules are removed) or a refusal from Discord mark the run failed with the
reason, and the schedule's next run covers its period (it starts from the last delivered run).
Nothing new posts nothing, or one short line with NEWSBOT_DIGEST_EMPTY=line. The channel's alert stories
deferred past the hourly cap are listed after the digest's sources (titles and links), and marked
delivered with the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from index.live import digests as live_digests
from index.live.digests import AlertStory, Digest, DigestRun

from .permissions import missing_permissions, permission_names
from .render import Outgoing, Section, build_embeds, link, pack_messages, source_entries, summary_body
from .rounds import repeat

if TYPE_CHECKING:
    from .client import NewsBot

log = logging.getLogger(__name__)

CHECK_EVERY = 30.0  # seconds between looks for due runs (a run is at most this late)
ALERTS_SECTION = "More from this channel's alerts"


def digest_messages(
    made: Digest, period: str, *, title: str, alert_stories: list[AlertStory] | None = None
) -> list[Outgoing]:
    """The digest as messages within Discord's limits (split, never cut): a header with the period and
    the counts, then each story's heading and cited points, then the sources, then the alert stories
    deferred past the hourly cap (one line each: linked title, outlet)."""
    body = f"*{period}* · {made.tally}\n\n{summary_body(made)}" if made.points else f"*{period}*"
    sections = [Section("Sources", source_entries(made.citations))] if made.citations else []
    if alert_stories:
        lines = [f"• {link(s.title, s.url)} — {s.source or 'unknown outlet'}" for s in alert_stories]
        sections.append(Section(ALERTS_SECTION, lines))
    return pack_messages(build_embeds(title=title, body=body, sections=sections))


def run_title(run: DigestRun) -> str:
    schedule = run.schedule
    kind = "Daily" if schedule.when.weekday is None else "Weekly"
    about = f" on {schedule.topic}" if schedule.topic else ""
    return f"{kind} news digest{about}"


def empty_line(run: DigestRun) -> str:
    about = f" on {run.schedule.topic}" if run.schedule.topic else ""
    return f"No new stories{about} since {run.period.split(' to ')[0]}."


def nonce_for(run: DigestRun, part: int) -> str:
    """A message nonce (at most 25 characters) naming the schedule, its due time and the part."""
    return hashlib.sha256(f"digest|{run.schedule.id}|{run.due}|{part}".encode()).hexdigest()[:25]


class DigestPoster:
    """The digest task of one bot; `start` with the live news, `close` on the way out."""

    def __init__(self, bot: NewsBot, *, now: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.now = now
        self._task: asyncio.Task | None = None
        self._running = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="newsbot-digests")

    async def close(self) -> None:
        if self._task is not None:
            async with self._running:  # a run being posted finishes: what Discord accepted is recorded
                self._task.cancel()

    async def _loop(self) -> None:
        await self.bot.wait_until_ready()
        await repeat(self.run_due, every=CHECK_EVERY, what="scheduled digests")

    async def run_due(self) -> int:
        """Claim and post every due run; returns how many digests (or empty lines) were posted."""
        async with self._running:
            runs = await self.bot.run_admin(live_digests.claim_due, self.bot.engine, now=self.now())
            posted = 0
            for run in runs:
                posted += await self._post(run)
            return posted

    async def _post(self, run: DigestRun) -> int:
        if run.has_content:
            parts = digest_messages(
                run.digest, run.period, title=run_title(run), alert_stories=run.alert_stories
            )
        elif self.bot.settings.digest_empty == "line":
            parts = [Outgoing(content=empty_line(run))]
        else:
            await self._finish(run, "empty")
            return 0
        channel = self.bot.get_channel(run.schedule.channel_id)
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return await self._fail(run, "its channel is not one the bot can see")
        if missing := missing_permissions(channel):
            return await self._fail(
                run, f"cannot post in #{channel.name}: missing {permission_names(missing)}"
            )
        for i, part in enumerate(parts):
            try:
                await channel.send(**part.kwargs(), nonce=nonce_for(run, i))  # type: ignore[union-attr]
            except discord.NotFound:
                removed = await self.bot.run_admin(live_digests.remove_channel, self.bot.engine, channel.id)
                return await self._fail(run, f"its channel was deleted ({removed} schedules removed)")
            except discord.HTTPException as error:
                return await self._fail(run, f"Discord refused it ({error.status})")
        await self._finish(run, "delivered")
        return 1

    async def _finish(self, run: DigestRun, status: str, reason: str | None = None) -> None:
        await self.bot.run_admin(
            live_digests.finish_run, self.bot.engine, run, status, reason=reason, now=self.now()
        )

    async def _fail(self, run: DigestRun, reason: str) -> int:
        log.warning("digest #%s due %s not posted: %s", run.schedule.id, run.due, reason)
        await self._finish(run, "failed", reason)
        return 0
