"""The one error handler for application commands and views: known errors become a short ephemeral
message, unknown ones are logged with their traceback and the member gets a generic apology."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import APOLOGY, message_for, tell, unwrap

log = logging.getLogger(__name__)


class ErrorHandler(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError | Exception
    ) -> None:
        text = message_for(error)
        if text is None:
            command = interaction.command.qualified_name if interaction.command else interaction.type.name
            log.error("unexpected error in %s", command, exc_info=unwrap(error))
            text = APOLOGY
        await tell(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
