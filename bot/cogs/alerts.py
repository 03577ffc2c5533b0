"""`/alert add|list|remove|test` (a server's admins) and `/follow`, `/unfollow` (any member, by DM).

Alerts belong to the server they are added in: they watch what that server sees (the operator's news and
its own) and post to one of its channels. The admin gate is /feeds' (Manage Server, Administrator or a
NEWSBOT_ADMIN_ROLES role). A member's follow is theirs: delivered by DM, listed and removed by them only.
Replies are ephemeral; the engine calls run in the bot's admin pool (index/live/alerts.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index.live import alerts
from index.scopes import guild_scope

from .. import render
from ..alerts import story_embed
from ..client import admin_check, may_administer
from ..errors import UserFacingError
from ..live import missing_permissions, permission_names

if TYPE_CHECKING:
    from ..client import NewsBot

log = logging.getLogger(__name__)

TEST_SHOWN = 10  # stories shown by /alert test (one embed each); the rest are counted
CHOICE_TEXT = 100


def alert_line(alert: alerts.Alert) -> str:
    where = f"<#{alert.channel_id}>" if alert.channel_id else "your DMs"
    line = f"**#{alert.id}** {discord.utils.escape_markdown(alert.topic)} → {where}"
    if alert.paused:
        line += " · ⏸ paused"
    if alert.last_error:
        line += f"\n⚠ {alert.last_error}"
    return line


def _choice(alert: alerts.Alert) -> app_commands.Choice[str]:
    name = f"#{alert.id} {alert.topic}"
    return app_commands.Choice(name=name[:CHOICE_TEXT], value=str(alert.id))


def _alert_id(value: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit():
        raise UserFacingError("I don't know that alert here: pick one from the suggestions.")
    return int(text)


class AlertCommands:
    """What the two cogs share: the engine call whose AlertError becomes a message, and replies."""

    bot: NewsBot

    async def _engine(self, func, /, *args, **kwargs):
        try:
            return await self.bot.run_admin(func, *args, **kwargs)
        except alerts.AlertError as error:
            text = str(error)
            raise UserFacingError(text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) from None

    async def _say(self, interaction: discord.Interaction, title: str, body: str) -> None:
        for part in render.pack_messages(render.build_embeds(title=title, body=body)):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Alerts(
    AlertCommands, commands.GroupCog, group_name="alert", group_description="Topic alerts for channels."
):
    def __init__(self, bot: NewsBot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return admin_check(interaction)

    @app_commands.command(name="add", description="Post new stories about a topic to a channel.")
    @app_commands.describe(
        topic="A few words, as you would search: interest rates, SpaceX launches, Premier League transfers.",
        channel="Where to post them (default: this channel).",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 200],
        channel: discord.TextChannel | None = None,
    ) -> None:
        place = channel or interaction.channel
        if (
            not isinstance(place, discord.TextChannel | discord.Thread)
            or place.guild.id != interaction.guild_id
        ):
            raise UserFacingError("Pick a text channel of this server.")
        if missing := missing_permissions(place):
            raise UserFacingError(
                f"I can't post in {place.mention}: I need {permission_names(missing)} there."
            )
        await interaction.response.defer(thinking=True, ephemeral=True)
        alert = await self._engine(
            alerts.add, self.bot.engine, topic, scope=guild_scope(interaction.guild_id),
            channel_id=place.id, added_by=str(interaction.user.id),
        )  # fmt: skip
        cap = self.bot.engine.settings.alerts_per_hour
        await self._say(
            interaction,
            f"Alert added: {alert.topic}",
            f"New stories about **{discord.utils.escape_markdown(alert.topic)}** will be posted in "
            f"{place.mention}, at most {cap} an hour (the rest follow together). `/alert test` shows what "
            "it would have matched this past week.",
        )

    @app_commands.command(name="list", description="This server's topic alerts.")
    async def list_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        found = await self._engine(
            alerts.list_alerts, self.bot.engine, scope=guild_scope(interaction.guild_id)
        )
        channels = [a for a in found if a.channel_id]
        members = len(found) - len(channels)
        body = "\n".join(alert_line(a) for a in channels) or "No alert yet: `/alert add topic` adds one."
        if members:
            body += f"\n\nMembers follow {members} topic{'s' if members != 1 else ''} by DM (`/follow`)."
        await self._say(interaction, "Topic alerts", body)

    @app_commands.command(name="remove", description="Stop a topic alert.")
    @app_commands.describe(alert="The alert: start typing its topic and pick it from the list.")
    async def remove(self, interaction: discord.Interaction, alert: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        chosen = await self._engine(
            alerts.remove, self.bot.engine, _alert_id(alert), scope=guild_scope(interaction.guild_id)
        )
        await self._say(
            interaction, f"Alert removed: {chosen.topic}", "No more stories on it will be posted."
        )

    @remove.autocomplete("alert")
    async def _alert_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not may_administer(interaction):  # checks do not run for autocomplete
            return []
        found = await self.bot.run_admin(
            alerts.list_alerts, self.bot.engine, scope=guild_scope(interaction.guild_id)
        )
        needle = current.strip().casefold()
        return [_choice(a) for a in found if a.channel_id and needle in a.topic.casefold()][:25]

    @app_commands.command(name="test", description="What a topic would have matched this past week.")
    @app_commands.describe(topic="The topic to try, before adding it.")
    async def test(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        since = alerts.since_date(alerts.TEST_SINCE)
        viewer = guild_scope(interaction.guild_id)
        found = await self._engine(alerts.test, self.bot.engine, topic, viewer=viewer, since=since)
        escaped = discord.utils.escape_markdown(topic.strip())
        if not found:
            await self._say(interaction, "Alert test", f"Nothing since {since} is about **{escaped}**.")
            return
        embeds = [e for match in found[:TEST_SHOWN] for e in story_embed(match)]
        head = f"{len(found)} stor{'y' if len(found) == 1 else 'ies'} since {since} match **{escaped}**"
        head += f" (the first {TEST_SHOWN} below)." if len(found) > TEST_SHOWN else ":"
        parts = render.pack_messages(embeds)
        parts[0].content = head
        for part in parts:
            await interaction.followup.send(**part.kwargs(), ephemeral=True)


class Follows(AlertCommands, commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    @app_commands.guild_only()
    @app_commands.command(name="follow", description="Get new stories about a topic by DM.")
    @app_commands.describe(topic="A few words, as you would search: interest rates, SpaceX launches.")
    async def follow(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        alert = await self._engine(
            alerts.follow, self.bot.engine, topic, scope=guild_scope(interaction.guild_id),
            user_id=interaction.user.id,
        )  # fmt: skip
        mine = await self._mine(interaction)
        cap = self.bot.engine.settings.alerts_per_hour
        await self._say(
            interaction,
            f"Following: {alert.topic}",
            f"I'll DM you new stories about **{discord.utils.escape_markdown(alert.topic)}**, at most {cap} "
            "an hour, if your DMs are open to me. You follow:\n" + "\n".join(alert_line(a) for a in mine),
        )

    @app_commands.guild_only()
    @app_commands.command(name="unfollow", description="Stop getting a topic by DM.")
    @app_commands.describe(topic="One of the topics you follow: pick it from the list.")
    async def unfollow(self, interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        mine = await self._mine(interaction)
        chosen = next(
            (a for a in mine if str(a.id) == topic.strip() or a.topic.casefold() == topic.strip().casefold()),
            None,
        )
        if chosen is None:
            raise UserFacingError("You don't follow that topic here: pick one from the suggestions.")
        await self._engine(
            alerts.remove,
            self.bot.engine,
            chosen.id,
            scope=chosen.scope,
            target=f"user:{interaction.user.id}",
        )
        await self._say(interaction, f"Unfollowed: {chosen.topic}", "No more DMs about it.")

    @unfollow.autocomplete("topic")
    async def _topic_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.strip().casefold()
        return [_choice(a) for a in await self._mine(interaction) if needle in a.topic.casefold()][:25]

    async def _mine(self, interaction: discord.Interaction) -> list[alerts.Alert]:
        return await self.bot.run_admin(
            alerts.list_alerts, self.bot.engine, scope=guild_scope(interaction.guild_id),
            target=f"user:{interaction.user.id}",
        )  # fmt: skip


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Alerts(bot))
    await bot.add_cog(Follows(bot))
