"""Browsing what the bot holds: `/latest`, `/search`, `/sources`. Each reads SQLite or searches, so each
takes a slot of the question limiter (per-member rate and the cap on work at once) like a question."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import engine_calls, render
from ..parsing import name_choices
from ..scoping import viewer_of

if TYPE_CHECKING:
    from ..client import NewsBot


class Browse(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def _send(self, interaction: discord.Interaction, parts: list[render.Outgoing]) -> None:
        for part in parts:
            await interaction.followup.send(**part.kwargs())

    @app_commands.command(name="latest", description="The newest articles held, newest first.")
    @app_commands.describe(source="Only articles from this outlet.", count="How many articles (1–25).")
    async def latest(
        self,
        interaction: discord.Interaction,
        source: str | None = None,
        count: app_commands.Range[int, 1, 25] = 10,
    ) -> None:
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            found, info = await asyncio.to_thread(
                engine_calls.latest_articles,
                self.bot.engine,
                source=source,
                count=count,
                viewer=viewer_of(interaction),
            )
        title = f"Latest from {source}" if source else "Latest articles"
        await self._send(interaction, render.articles_messages(title, found, info, empty="No articles yet."))

    @latest.autocomplete("source")
    async def _sources(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return name_choices(await self.bot.outlet_names.get(viewer_of(interaction)), current)

    @app_commands.command(name="search", description="Articles matching your words, with dates and links.")
    @app_commands.describe(query="Words or a question to look for.")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 2, 300]) -> None:
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            hits, info = await asyncio.to_thread(
                engine_calls.search_articles, self.bot.engine, query, viewer=viewer_of(interaction)
            )
        parts = render.hits_messages(f"Search: {query}", hits, info, empty="No article matches.")
        await self._send(interaction, parts)

    @app_commands.command(
        name="sources", description="Outlets held, their article counts and newest article."
    )
    async def sources(self, interaction: discord.Interaction) -> None:
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            outlets, info, feeds = await asyncio.to_thread(
                engine_calls.sources_overview, self.bot.engine, viewer_of(interaction)
            )
        await self._send(interaction, render.sources_messages(outlets, info, feeds))


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Browse(bot))
