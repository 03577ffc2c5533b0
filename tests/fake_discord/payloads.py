"""Builders for the JSON payloads Discord sends: guilds, READY, messages and interactions.

They take the :class:`~.world.World` so the payloads reference real seeded objects. Tests
normally call the high-level ``FakeDiscord.send_*`` methods; the builders are public for tests
that need to tweak a payload before dispatching it with ``FakeDiscord.dispatch``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .ids import iso, snowflake_time
from .world import ALL_PERMISSIONS, Payload, World

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")

# Message types and flags used by the fake.
MSG_DEFAULT, MSG_REPLY, MSG_CHAT_INPUT, MSG_CONTEXT_MENU = 0, 19, 20, 23
FLAG_HAS_THREAD, FLAG_EPHEMERAL, FLAG_LOADING = 1 << 5, 1 << 6, 1 << 7

# Interaction types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5


# -- guild / session --------------------------------------------------------------------------------
def guild_payload(world: World, guild_id: int | None = None) -> Payload:
    """The REST guild object (``GET /guilds/{id}``) of ``guild_id`` (the first guild by default)."""
    guild = world.guild(guild_id)
    channels = world.guild_channels(guild.id)
    system_channel = guild.general_id or (channels[0]["id"] if channels else None)
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None if system_channel is None else str(system_channel),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "application_id": None,
        "features": [],
        "roles": world.role_list(guild.id),
        "emojis": [],
        "stickers": [],
        "max_members": 500000,
        "max_video_channel_users": 25,
        "premium_progress_bar_enabled": False,
    }


def guild_create_payload(world: World, guild_id: int | None = None, *, all_members: bool = False) -> Payload:
    """``GUILD_CREATE`` after READY: the guild with channels and threads.

    Like Discord, ``members`` holds only the bot itself unless ``all_members`` (the fake sets it
    for sessions with the GUILD_PRESENCES intent); bots with GUILD_MEMBERS chunk the rest.
    """
    guild = world.guild(guild_id)
    member_ids = list(guild.members) if all_members else [world.bot_id]
    members = [world.member_payload(uid, guild_id=guild.id) for uid in member_ids]
    channels = world.guild_channels(guild.id)
    return guild_payload(world, guild.id) | {
        "unavailable": False,
        "large": len(guild.members) >= 250,
        "member_count": len(guild.members),
        "joined_at": guild.members[world.bot_id]["joined_at"],
        "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in channels],
        "threads": world.guild_threads(guild.id),
        "members": members,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": True,
    }


def ready_payload(world: World, *, session_id: str, resume_url: str, shard: list[int] | None) -> Payload:
    data: Payload = {
        "v": 10,
        "user": world.user(world.bot_id) | {"verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(gid), "unavailable": True} for gid in world.bot_guilds()],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["us-east"],
        "application": {"id": str(world.application_id), "flags": 0},
        "user_settings": {},
        "_trace": ['["fake-discord",{"micros":0}]'],
    }
    if shard is not None:
        data["shard"] = shard
    return data


def application_payload(world: World) -> Payload:
    """``GET /applications/@me``."""
    return {
        "id": str(world.application_id),
        "name": "NewsBot",
        "icon": None,
        "description": "Answers questions about the news",
        "summary": "",
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": world.user(world.owner_id),
        "team": world.team,
        "flags": 0,
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "approximate_guild_count": len(world.bot_guilds()),
        "bot": world.user(world.bot_id),
    }


# -- messages ---------------------------------------------------------------------------------------
def message_payload(
    world: World,
    *,
    message_id: int,
    channel_id: int,
    author_id: int,
    content: str = "",
    mentions: Sequence[int] = (),
    mention_roles: Sequence[int] = (),
    referenced: Payload | None = None,
    embeds: Sequence[Payload] = (),
    components: Sequence[Payload] = (),
    attachments: Sequence[Payload] = (),
    flags: int = 0,
    type: int | None = None,
    **extra: Any,
) -> Payload:
    """A message in REST shape (no ``guild_id``/``member``; see :func:`gateway_message`).

    Mentions written in ``content`` (``<@id>``, ``<@&id>``) are added to ``mentions`` and
    ``mention_roles`` like Discord does. ``referenced`` is the stored message being replied to.
    """
    user_ids = list(dict.fromkeys([*mentions, *(int(m) for m in USER_MENTION.findall(content))]))
    role_ids = list(dict.fromkeys([*mention_roles, *(int(r) for r in ROLE_MENTION.findall(content))]))
    data: Payload = {
        "id": str(message_id),
        "type": type if type is not None else (MSG_REPLY if referenced is not None else MSG_DEFAULT),
        "channel_id": str(channel_id),
        "author": world.user(author_id),
        "content": content,
        "timestamp": iso(snowflake_time(message_id)),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": "@everyone" in content or "@here" in content,
        "mentions": [world.user(uid) for uid in user_ids if uid in world.users],
        "mention_roles": [str(r) for r in role_ids],
        "attachments": list(attachments),
        "embeds": list(embeds),
        "components": list(components),
        "reactions": [],
        "pinned": False,
        "flags": flags,
        **extra,
    }
    if referenced is not None:
        guild_id = world.guild_of(int(referenced["channel_id"]))
        data["message_reference"] = {
            "type": 0,
            "message_id": referenced["id"],
            "channel_id": referenced["channel_id"],
            **({"guild_id": str(guild_id)} if guild_id else {}),
        }
        data["referenced_message"] = referenced
    return data


def gateway_message(world: World, message: Payload) -> Payload:
    """``MESSAGE_CREATE``/``MESSAGE_UPDATE`` shape: adds ``guild_id``, ``member`` and mention members."""
    guild_id = world.guild_of(int(message["channel_id"]))
    if guild_id is None:
        return dict(message)
    data = dict(message, guild_id=str(guild_id))
    members = world.guild(guild_id).members
    author_id = int(message["author"]["id"])
    if author_id in members and not message.get("webhook_id"):
        data["member"] = world.member_payload(author_id, with_user=False, guild_id=guild_id)
    data["mentions"] = [
        u
        | (
            {"member": world.member_payload(int(u["id"]), with_user=False, guild_id=guild_id)}
            if int(u["id"]) in members
            else {}
        )
        for u in message["mentions"]
    ]
    return data


def attachment_payload(
    attachment_id: int, filename: str, size: int, *, url: str, content_type: str | None = None
) -> Payload:
    data: Payload = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type:
        data["content_type"] = content_type
    return data


# -- interactions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserArg:
    """Value of a USER option (type 6); fills ``resolved.users``/``resolved.members``."""

    id: int


@dataclass(frozen=True)
class ChannelArg:
    """Value of a CHANNEL option (type 7); fills ``resolved.channels``."""

    id: int


@dataclass(frozen=True)
class RoleArg:
    """Value of a ROLE option (type 8); fills ``resolved.roles``."""

    id: int


def _option(world: World, name: str, value: Any, resolved: Payload, focused: bool) -> Payload:
    if isinstance(value, Mapping):  # already a raw option payload
        return dict(value)
    if isinstance(value, UserArg):
        resolved.setdefault("users", {})[str(value.id)] = world.user(value.id)
        if value.id in world.members:
            member = world.member_payload(value.id, with_user=False) | {"permissions": "0"}
            resolved.setdefault("members", {})[str(value.id)] = member
        type_, value = 6, str(value.id)
    elif isinstance(value, ChannelArg):
        channel = world.channel(value.id) or {}
        resolved.setdefault("channels", {})[str(value.id)] = channel | {"permissions": str(ALL_PERMISSIONS)}
        type_, value = 7, str(value.id)
    elif isinstance(value, RoleArg):
        resolved.setdefault("roles", {})[str(value.id)] = world.roles[value.id]
        type_, value = 8, str(value.id)
    elif isinstance(value, bool):
        type_ = 5
    elif isinstance(value, int):
        type_ = 4
    elif isinstance(value, float):
        type_ = 10
    else:
        type_, value = 3, str(value)
    option: Payload = {"name": name, "type": type_, "value": value}
    if focused:
        option["focused"] = True
    return option


def command_data(
    world: World,
    name: str,
    options: Mapping[str, Any] | Sequence[Payload] | None = None,
    *,
    command_id: int,
    command_guild_id: int | None,
    focused: str | None = None,
) -> Payload:
    """``data`` of a CHAT_INPUT command. ``name`` may be ``"group sub"`` or ``"group subgroup sub"``.

    ``options`` maps option names to values: ``str``/``int``/``float``/``bool`` (types 3/4/10/5),
    :class:`UserArg`/:class:`ChannelArg`/:class:`RoleArg`, or raw option dicts. A list of raw
    option dicts is used as is. ``focused`` marks the option being autocompleted.
    """
    resolved: Payload = {}
    if options is None:
        leaf: list[Payload] = []
    elif isinstance(options, Mapping):
        leaf = [_option(world, k, v, resolved, k == focused) for k, v in options.items()]
    else:
        leaf = [dict(o) for o in options]
    root, *subs = name.split()
    if len(subs) > 2:
        raise ValueError(f"command name {name!r} nests deeper than 'group subgroup sub'")
    for depth, sub_name in reversed(list(enumerate(subs))):
        sub_type = 1 if depth == len(subs) - 1 else 2  # SUB_COMMAND, SUB_COMMAND_GROUP
        leaf = [{"name": sub_name, "type": sub_type, "options": leaf}]
    data: Payload = {"id": str(command_id), "name": root, "type": 1, "options": leaf}
    if resolved:
        data["resolved"] = resolved
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    return data


def interaction_payload(
    world: World,
    *,
    interaction_id: int,
    token: str,
    type: int,
    data: Payload,
    user_id: int,
    channel_id: int,
    message: Payload | None = None,
    locale: str = "en-US",
) -> Payload:
    """A full ``INTERACTION_CREATE`` payload (guild or DM, depending on ``channel_id``)."""
    guild_id = world.guild_of(channel_id)
    channel = world.channel(channel_id) or {"id": str(channel_id), "type": 0}
    payload: Payload = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": type,
        "data": data,
        "channel_id": str(channel_id),
        "channel": channel,
        "token": token,
        "version": 1,
        "locale": locale,
        "app_permissions": str(world.permissions(world.bot_id, channel_id)),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": str(guild_id) if guild_id else str(user_id)},
        "context": 0 if guild_id else 1,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        payload["guild_locale"] = "en-US"
        payload["member"] = world.member_payload(user_id, channel_id=channel_id)
    else:
        payload["user"] = world.user(user_id)
    if message is not None:
        payload["message"] = message
    return payload
