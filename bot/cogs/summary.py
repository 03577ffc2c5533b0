"""`/summary article|topic|period`: cited key points of one article, a topic, or the last days."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import engine_calls, render
from ..parsing import resolve_article, title_choices
from ..scoping import viewer_of

if TYPE_CHECKING:
    from ..client import NewsBot


class Summaries(commands.GroupCog, group_name="summary", group_description="Cited key points of the news."):
    def __init__(self, bot: NewsBot):
        self.bot = bot
        super().__init__()

    async def _send(self, interaction: discord.Interaction, parts: list[render.Outgoing]) -> None:
        for part in parts:
            await interaction.followup.send(**part.kwargs())

    @app_commands.command(name="article", description="Summarize one article.")
    @app_commands.describe(
        title="The article: start typing its title and pick it from the list.",
        points="How many points (default 3).",
    )
    async def article(
        self, interaction: discord.Interaction, title: str, points: app_commands.Range[int, 1, 10] = 3
    ) -> None:
        viewer = viewer_of(interaction)
        article_id = resolve_article(await self.bot.titles.get(viewer), title)
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            summary, info = await asyncio.to_thread(
                engine_calls.summarize_article, self.bot.engine, article_id, points, viewer=viewer
            )
        await self._send(interaction, render.summary_messages(summary, info))

    @article.autocomplete("title")
    async def _titles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return title_choices(await self.bot.titles.get(viewer_of(interaction)), current)

    @app_commands.command(name="topic", description="Summarize what the news says about a topic.")
    @app_commands.describe(
        topic="A person, place, event or subject.", days="Only news from the last this many days."
    )
    async def topic(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 2, 200],
        days: app_commands.Range[int, 1, 3650] | None = None,
    ) -> None:
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            summary, info = await asyncio.to_thread(
                engine_calls.summarize_topic, self.bot.engine, topic, days=days, viewer=viewer_of(interaction)
            )
        await self._send(interaction, render.summary_messages(summary, info))

    @app_commands.command(name="period", description="Summarize the main news of the last few days.")
    @app_commands.describe(days="How many days back, counting today.")
    async def period(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 7
    ) -> None:
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            summary, info = await asyncio.to_thread(
                engine_calls.summarize_period, self.bot.engine, days, viewer=viewer_of(interaction)
            )
        await self._send(interaction, render.summary_messages(summary, info))


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Summaries(bot))
