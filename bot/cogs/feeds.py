"""`/feeds add|list|remove|check`: the feeds a server follows, and where their new stories are posted.

A server's admins (Manage Server, Administrator or a NEWSBOT_ADMIN_ROLES role) manage their server's own
feeds: only that server sees their articles. An operator's feeds are the operator's news (every server
sees them), as their `/ingest` is, unless they set `everyone:False`; `everyone:True` is refused, with a
clear message, to anyone else. Replies are shown only to the admin who asked (a feed's
errors are theirs to fix, not the channel's to read); the engine calls run in the bot's admin pool.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index.live import DEFAULT_INTERVAL, Feed, FeedError, Preview, parse_interval
from index.live import feeds as live_feeds
from index.scopes import OPERATOR, guild_scope

from .. import render
from ..client import admin_check, is_operator, may_administer
from ..errors import UserFacingError
from ..live import missing_permissions, permission_names
from ..parsing import interval_text
from ..skips import FETCH_FAILED, tells_network

if TYPE_CHECKING:
    from ..client import NewsBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
CHOICE_TEXT = 100
_URL = re.compile(r"https?://[^\s)>]+")  # the addresses an admin gave (their own words), not the network's


def safe_reason(reason: str, *, operator: bool) -> str:
    """A feed's failure as the asker may read it: in full for operators (their machine); for a server's
    admins, a failure that says anything about the network (a status, a refusal, an address beyond the
    URLs they gave) is only "could not be fetched", as `/ingest` says it (bot/skips.py)."""
    if operator or not tells_network(_URL.sub("", reason)):
        return reason
    return f"the feed {FETCH_FAILED}"


def feed_name(feed: Feed) -> str:
    return feed.title or feed.url


def health_line(feed: Feed, *, operator: bool, channel_problem: str | None = None) -> str:
    """A feed's health in one line: last check, last new article, failures, last error."""
    if feed.paused:
        state = "⏸ paused (the bot left this server)"
    elif feed.broken:
        state = f"⛔ broken: {feed.failures} failed checks in a row, retried at most twice a day"
    elif feed.failures:
        state = f"⚠ {feed.failures} failed check{'s' if feed.failures != 1 else ''} in a row"
    else:
        state = "✅ ok"
    parts = [
        state,
        f"checked {render.short_time(feed.last_checked)}",
        f"last new article {render.short_time(feed.last_new)}",
        f"every {interval_text(feed.interval_s)}",
        f"{feed.articles} article{'s' if feed.articles != 1 else ''}",
    ]
    line = " · ".join(parts)
    if feed.last_error:
        line += f"\nLast error: {safe_reason(feed.last_error, operator=operator)}"
    if channel_problem:
        line += f"\n⚠ {channel_problem}"
    return line


def feed_entry(feed: Feed, *, operator: bool, channel_problem: str | None = None) -> str:
    mark = " · **everyone** (operator's feed)" if feed.scope == OPERATOR else ""
    posts = f" → <#{feed.channel_id}>" if feed.channel_id else ""
    head = f"**#{feed.id} {render.link(feed_name(feed), feed.url)}**{mark}{posts}"
    return f"{head}\n{health_line(feed, operator=operator, channel_problem=channel_problem)}"


def preview_text(preview: Preview) -> tuple[str, str]:
    """(title, body) of a `/feeds check` answer."""
    lines = []
    if preview.discovered_from:
        lines.append(f"<{preview.discovered_from}> is a page; the feed it advertises is <{preview.url}>.")
    else:
        lines.append(f"<{preview.url}>")
    if preview.entries:
        lines.append("Latest entries:")
        for entry in preview.entries:
            title = entry.title or "(untitled)"
            lines.append(f"• {render.link(title, entry.url)} — {render.when(entry.published)}")
    else:
        lines.append("The feed has no entries right now.")
    lines.append("Nothing was added: `/feeds add` follows it.")
    return preview.title or "Feed preview", "\n".join(lines)


def visible(feeds: list[Feed], guild_id: int) -> list[Feed]:
    """The feeds a server's admins manage and see: their own, then the operator's."""
    own = guild_scope(guild_id)
    return [f for f in feeds if f.scope == own] + [f for f in feeds if f.scope == OPERATOR]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(commands.GroupCog, group_name="feeds", group_description="The news feeds this server follows."):
    def __init__(self, bot: NewsBot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return admin_check(interaction)

    async def _say(self, interaction: discord.Interaction, title: str, body: str) -> None:
        for part in render.pack_messages(render.build_embeds(title=title, body=body)):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)

    async def _engine(self, interaction: discord.Interaction, func, /, *args, **kwargs):
        """An engine call in the admin pool; its FeedError becomes a message the asker may read."""
        try:
            return await self.bot.run_admin(func, *args, **kwargs)
        except FeedError as error:
            operator = await is_operator(interaction)
            raise UserFacingError(_sentence(safe_reason(str(error), operator=operator))) from None

    # -- add ------------------------------------------------------------------------------------

    @app_commands.command(
        name="add", description="Follow a news feed (or a site's feed): checked on schedule."
    )
    @app_commands.describe(
        url="The feed's address, or a news site's page that links its feed (http or https).",
        channel="Post each new story here (optional: without it the news is only answerable).",
        interval="How often to check it: 15m (default), 30m, 1h, 1h30m... at least 5 minutes.",
        everyone="Operators only: every server sees it (their default); False keeps it to this server.",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 8, 2000],
        channel: discord.TextChannel | None = None,
        interval: str | None = None,
        everyone: bool | None = None,
    ) -> None:
        try:  # the CLI's rule: 15m, 1h, 1h30m, 900s; at least 5 minutes
            seconds = parse_interval(interval.strip()) if interval and interval.strip() else DEFAULT_INTERVAL
        except ValueError as error:
            raise UserFacingError(_sentence(str(error))) from None
        operator = await is_operator(interaction)
        if everyone and not operator:
            raise UserFacingError(
                "Only the bot's operators can add a feed for every server; leave `everyone` off to "
                "add it for this server."
            )
        if channel is not None:
            if channel.guild.id != interaction.guild_id:
                raise UserFacingError("Pick a channel of this server.")
            if missing := missing_permissions(channel):
                raise UserFacingError(
                    f"I can't post in {channel.mention}: I need {permission_names(missing)} there."
                )
        for_everyone = operator if everyone is None else everyone
        scope = OPERATOR if for_everyone else guild_scope(interaction.guild_id)
        await interaction.response.defer(thinking=True, ephemeral=True)
        feed = await self._engine(
            interaction,
            live_feeds.add,
            self.bot.engine,
            url.strip(),
            scope=scope,
            channel_id=channel.id if channel else None,
            interval_s=seconds,
            added_by=str(interaction.user.id),
            poller=self.bot.live.poller,
        )
        self.bot.invalidate_choices()
        where = (
            f"New stories will be posted in {channel.mention}."
            if channel
            else "No channel: nothing is posted."
        )
        who = "every server" if for_everyone else "this server"
        text = (
            f"Following <{feed.url}> for {who}, checked every {interval_text(feed.interval_s)}. "
            f"{feed.articles} article{'s' if feed.articles != 1 else ''} from it can be asked about now. "
            + where
        )
        if feed.last_error:
            text += f"\nIts first check failed: {safe_reason(feed.last_error, operator=operator)}."
        await self._say(interaction, f"Added: {feed_name(feed)}", text)

    # -- list -----------------------------------------------------------------------------------

    @app_commands.command(
        name="list", description="This server's feeds and the operator's, with their health."
    )
    async def list_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        feeds = visible(await asyncio.to_thread(live_feeds.list, self.bot.engine), interaction.guild_id)
        operator = await is_operator(interaction)
        if not feeds:
            body = "This server follows no feed yet: `/feeds add url` follows one."
        else:
            body = "\n\n".join(
                feed_entry(f, operator=operator, channel_problem=self._channel_problem(f)) for f in feeds
            )
        await self._say(interaction, "Feeds", body)

    def _channel_problem(self, feed: Feed) -> str | None:
        """Why this feed's stories cannot be posted right now, from the cache (no request)."""
        if feed.channel_id is None:
            return None
        channel = self.bot.get_channel(feed.channel_id)
        if channel is None:
            return None  # a thread not cached, or another server's channel (the operator's feeds)
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread) and (
            missing := missing_permissions(channel)
        ):
            return f"I can't post in {channel.mention}: I need {permission_names(missing)} there."
        return None

    # -- remove ---------------------------------------------------------------------------------

    @app_commands.command(
        name="remove", description="Stop following a feed; the articles only it brought go."
    )
    @app_commands.describe(feed="The feed: start typing its title or address and pick it from the list.")
    async def remove(self, interaction: discord.Interaction, feed: str) -> None:
        feeds = visible(await asyncio.to_thread(live_feeds.list, self.bot.engine), interaction.guild_id)
        chosen = next((f for f in feeds if str(f.id) == feed.strip().lstrip("#")), None)
        if chosen is None:
            raise UserFacingError("I don't know that feed here: pick one from the suggestions.")
        operator = await is_operator(interaction)
        if chosen.scope == OPERATOR and not operator:
            raise UserFacingError(
                "That feed is the operator's (every server sees it): only operators remove it."
            )
        await interaction.response.defer(thinking=True, ephemeral=True)
        scope = None if chosen.scope == OPERATOR else guild_scope(interaction.guild_id)
        removed = await self._engine(interaction, live_feeds.remove, self.bot.engine, chosen.id, scope=scope)
        self.bot.invalidate_choices()
        count = len(removed)
        await self._say(
            interaction,
            f"Removed: {feed_name(chosen)}",
            f"No longer following <{chosen.url}>; {count} article{'s' if count != 1 else ''} only it "
            "brought removed.",
        )

    @remove.autocomplete("feed")
    async def _feed_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Checks do not run for autocomplete: only admins are offered feeds, and only those they may remove.
        if not may_administer(interaction):
            return []
        feeds = visible(await asyncio.to_thread(live_feeds.list, self.bot.engine), interaction.guild_id)
        if not await is_operator(interaction):
            feeds = [f for f in feeds if f.scope != OPERATOR]
        needle = current.strip().casefold()
        picked = [f for f in feeds if needle in f"{f.title or ''} {f.url}".casefold()][:25]
        return [app_commands.Choice(name=_choice_name(f), value=str(f.id)) for f in picked]

    # -- check ----------------------------------------------------------------------------------

    @app_commands.command(
        name="check", description="Preview a feed (its title and latest entries); adds nothing."
    )
    @app_commands.describe(url="The feed's address, or a news site's page that links its feed.")
    async def check(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 2000]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        preview = await self._engine(interaction, live_feeds.check, self.bot.engine, url.strip())
        await self._say(interaction, *preview_text(preview))

    # -- servers joined and left ----------------------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.bot.live.pause_departed()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.bot.live.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.bot.live.guild_joined(guild.id)


def _choice_name(feed: Feed) -> str:
    mark = " (everyone)" if feed.scope == OPERATOR else ""
    name = f"#{feed.id} {feed_name(feed)}{mark}"
    return name if len(name) <= CHOICE_TEXT else name[: CHOICE_TEXT - 1] + "…"


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) if text else text


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Feeds(bot))
