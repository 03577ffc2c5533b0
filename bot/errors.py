"""Errors members may see and the sentence each becomes (for the error handler and the message flow).

Kept outside the extensions on purpose: extensions are re-imported when reloaded, and exception classes
must stay the same objects for `isinstance` to recognise them.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from index.engine import NotYours, ReindexBusy

from .limits import Busy

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again later."


class UserFacingError(Exception):
    """An error whose message is meant for the member (bad date, unknown article...)."""


class NotAdmin(app_commands.CheckFailure):
    """The member lacks Manage Server, Administrator and every configured admin role."""


class NotOperator(app_commands.CheckFailure):
    """An admin of a server that is not one of the operator's asked for an operation on everything."""


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError) and error.original:
        error = error.original
    return error


def message_for(error: BaseException) -> str | None:
    """The sentence shown for a known error; None for an unknown one."""
    error = unwrap(error)
    if isinstance(error, Busy):
        if error.reason == "cooldown":
            return f"You're asking quickly: try again in {error.seconds} s."
        return f"I'm busy answering other questions: try again in {error.seconds} s."
    if isinstance(error, NotAdmin):
        return "Only members with Manage Server (or an admin role set for newsbot) can do that."
    if isinstance(error, NotOperator):
        return (
            "Only the bot's operators can do that (the bot's owner, and admins of its home servers: "
            "NEWSBOT_HOME_GUILD_IDS)."
        )
    if isinstance(error, NotYours):
        return "That article is the operator's news: only the bot's operators can remove it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, ReindexBusy):
        return "A reindex is already running; wait for it to finish."
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {max(1, round(error.retry_after))} s."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not understand {error.value!r} for that option."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    return None


async def tell(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral message, whether or not the interaction was acknowledged already."""
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("could not tell %s about an error", interaction.user, exc_info=True)
