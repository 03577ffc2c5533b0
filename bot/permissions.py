"""What the bot needs to post in a channel, read from the cache (no request): story posts and digests."""

from __future__ import annotations

import discord

NEEDED = ("view_channel", "send_messages", "embed_links")


def missing_permissions(channel: discord.abc.GuildChannel | discord.Thread) -> list[str]:
    """What the bot lacks to post embeds in `channel` (from the cache: no request; nothing is known of a
    server another shard serves, whose member the bot is not in this process: Discord decides)."""
    if channel.guild.me is None:
        return []
    perms = channel.permissions_for(channel.guild.me)
    needed = list(NEEDED)
    if isinstance(channel, discord.Thread):
        needed[1] = "send_messages_in_threads"
    return [name for name in needed if not getattr(perms, name)]


def permission_names(names: list[str]) -> str:
    return ", ".join(name.replace("_", " ").title() for name in names)
