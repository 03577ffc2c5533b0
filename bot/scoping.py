"""Whose news a place in Discord sees (index/scopes.py): a server its own plus the operator's, a DM the
operator's only. Who is an operator is `bot.client.is_operator` (it needs the bot)."""

from __future__ import annotations

import discord

from index.scopes import OPERATOR, guild_scope


def viewer_of(place: discord.Interaction | discord.Message) -> str:
    """Whose news a question here is answered from: the server's (the operator's plus its own), or
    the operator's only in DMs."""
    guild_id = getattr(place, "guild_id", None)
    if guild_id is None and getattr(place, "guild", None) is not None:
        guild_id = place.guild.id  # type: ignore[union-attr]
    return OPERATOR if guild_id is None else guild_scope(guild_id)
