"""`/digest schedule|list|remove|now`: the server's top stories posted to a channel on a schedule.

A server's admins (Manage Server, Administrator or a NEWSBOT_ADMIN_ROLES role) schedule and remove their
server's digests; every member may list them and preview one (`/digest now`, shown only to them). A
digest holds the operator's news and the server's own (its scope, index/scopes.py). Engine calls run in
the bot's admin pool; posting is bot/digests.py's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index.live import digests as live_digests
from index.live.digests import DigestError, Schedule
from index.scopes import guild_scope

from .. import render
from ..client import admin_only
from ..digests import digest_messages
from ..errors import UserFacingError
from ..permissions import missing_permissions, permission_names

if TYPE_CHECKING:
    from ..client import NewsBot

WHEN_HELP = "daily 08:00 Europe/Paris, or weekly mon 08:00 Europe/Paris (a 24-hour time and an IANA zone)"


def schedule_line(schedule: Schedule, now: float) -> str:
    about = f" on **{schedule.topic}**" if schedule.topic else ""
    upcoming = schedule.to_json(now)["next_run"]
    return f"**#{schedule.id}** {schedule.when}{about} → <#{schedule.channel_id}> · next {upcoming}"


@app_commands.guild_only()
class Digests(commands.GroupCog, group_name="digest", group_description="The server's news digests."):
    def __init__(self, bot: NewsBot):
        self.bot = bot
        super().__init__()

    def _now(self) -> float:
        return self.bot.live.digests.now()

    async def _say(self, interaction: discord.Interaction, title: str, body: str) -> None:
        for part in render.pack_messages(render.build_embeds(title=title, body=body)):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)

    async def _engine(self, func, /, *args, **kwargs):
        """An engine call in the admin pool; its DigestError becomes the message the asker reads."""
        try:
            return await self.bot.run_admin(func, *args, **kwargs)
        except DigestError as error:
            raise UserFacingError(str(error)) from None

    @app_commands.command(name="schedule", description="Post the top stories to a channel every day or week.")
    @app_commands.describe(
        when=f"When, in local time: {WHEN_HELP}.",
        channel="The channel the digest is posted to.",
        topic="Only the stories about this subject (optional).",
    )
    @admin_only
    async def schedule(
        self,
        interaction: discord.Interaction,
        when: app_commands.Range[str, 5, 100],
        channel: discord.TextChannel,
        topic: app_commands.Range[str, 2, 200] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if channel.guild.id != interaction.guild_id:
            raise UserFacingError("Pick a channel of this server.")
        if missing := missing_permissions(channel):
            raise UserFacingError(f"I cannot post in {channel.mention}: missing {permission_names(missing)}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        made = await self._engine(
            live_digests.add_schedule, self.bot.engine, scope=guild_scope(interaction.guild_id),
            channel_id=channel.id, when=when, topic=topic, added_by=str(interaction.user.id), now=self._now(),
        )  # fmt: skip
        await self._say(interaction, "Digest scheduled", schedule_line(made, self._now()))

    @app_commands.command(name="list", description="The digests this server has scheduled.")
    async def list(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self._engine(live_digests.schedules, self.bot.engine, guild_scope(interaction.guild_id))
        now = self._now()
        body = "\n".join(schedule_line(s, now) for s in found) or (
            "No digests scheduled: an admin can add one with `/digest schedule`."
        )
        await self._say(interaction, "Scheduled digests", body)

    @app_commands.command(name="remove", description="Stop a scheduled digest.")
    @app_commands.describe(schedule="The digest's number, as `/digest list` shows it.")
    @admin_only
    async def remove(self, interaction: discord.Interaction, schedule: app_commands.Range[int, 1]) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        gone = await self._engine(
            live_digests.remove_schedule, self.bot.engine, schedule, scope=guild_scope(interaction.guild_id)
        )
        await self._say(interaction, "Digest removed", f"#{gone.id} {gone.when} no longer posts.")

    @app_commands.command(name="now", description="Preview a digest of the last day (only you see it).")
    @app_commands.describe(topic="Only the stories about this subject (optional).")
    async def now(
        self, interaction: discord.Interaction, topic: app_commands.Range[str, 2, 200] | None = None
    ) -> None:
        assert interaction.guild_id is not None
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(ephemeral=True, thinking=True)
            made = await self._engine(
                live_digests.preview, self.bot.engine, viewer=guild_scope(interaction.guild_id), topic=topic,
                now=self._now(),
            )  # fmt: skip
        if not made.points:
            about = f" on {topic}" if topic else ""
            await self._say(interaction, "Digest preview", f"No stories{about} in the last day.")
            return
        end = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self._now()))
        for part in digest_messages(made, f"the last day, to {end}", title=made.title):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Digests(bot))
