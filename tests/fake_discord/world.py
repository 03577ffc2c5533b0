"""The seeded state of the fake Discord: one guild with roles, channels, a thread and members, and
optionally more, plainer guilds (`World.add_guild`: an admin, a member and a channel each), for bots
that serve several servers.

Everything is stored in Discord's JSON shapes (ids as strings), so REST and gateway payloads can
be cut straight from it. Tests reach the seeded ids through attributes (``world.general_id``,
``world.admin_id`` ...) and may add users/members/channels before the bot connects.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from .ids import iso, snowflake_at

Payload = dict[str, Any]


class Perm(enum.IntFlag):
    """Discord permission bits (the subset the seed and the REST checks use)."""

    KICK_MEMBERS = 1 << 1
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38


#: What Discord reports for owners/administrators (same value as ``discord.Permissions.all()``).
ALL_PERMISSIONS = 8866461766385663

EVERYONE_PERMS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.ADD_REACTIONS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
)
ADMIN_PERMS = (
    Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES | Perm.MANAGE_CHANNELS | Perm.MANAGE_THREADS | Perm.KICK_MEMBERS
)
BOT_PERMS = EVERYONE_PERMS | Perm.MANAGE_THREADS

THREAD_TYPES = (10, 11, 12)
_SEED_TIME = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)


def user_payload(
    user_id: int, username: str, *, bot: bool = False, global_name: str | None = None
) -> Payload:
    data: Payload = {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name if global_name is not None else (None if bot else username.title()),
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
    }
    if bot:
        data["bot"] = True
    return data


def role_payload(role_id: int, name: str, permissions: int, position: int, **extra: Any) -> Payload:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(int(permissions)),
        "managed": False,
        "mentionable": False,
        "flags": 0,
        **extra,
    }


def overwrite(target_id: int, *, role: bool = True, allow: int = 0, deny: int = 0) -> Payload:
    """A channel permission overwrite (``role=False`` targets a member)."""
    return {"id": str(target_id), "type": 0 if role else 1, "allow": str(int(allow)), "deny": str(int(deny))}


@dataclass
class OtherGuild:
    """A further guild (`World.add_guild`): its admin, its member and one text channel."""

    guild_id: int
    name: str
    admin_id: int
    member_id: int
    channel_id: int
    admin_role_id: int
    roles: dict[int, Payload] = field(default_factory=dict)
    members: dict[int, Payload] = field(default_factory=dict)
    channels: dict[int, Payload] = field(default_factory=dict)

    def permissions(self, user_id: int) -> int:
        member = self.members.get(user_id)
        if member is None:
            return 0
        perms = int(self.roles[self.guild_id]["permissions"])
        for role_id in member["roles"]:
            perms |= int(self.roles[int(role_id)]["permissions"])
        return ALL_PERMISSIONS if perms & Perm.ADMINISTRATOR else perms


class World:
    """One seeded guild plus DMs. Mutate it before the bot connects to change the seed."""

    def __init__(self) -> None:
        sf = iter(snowflake_at(_SEED_TIME, i) for i in range(1, 4096))
        self.application_id = self.bot_id = next(sf)
        self.guild_id = next(sf)
        self.guild_name = "Newsroom"
        self.owner_id, self.admin_id, self.member_id = next(sf), next(sf), next(sf)
        self.everyone_role_id = self.guild_id
        self.admin_role_id, self.bot_role_id, self.subscriber_role_id = next(sf), next(sf), next(sf)
        self.category_id, self.general_id, self.news_desk_id, self.announcements_id = (
            next(sf) for _ in range(4)
        )
        self.thread_id = next(sf)
        self._seed_iter = sf

        self.users: dict[int, Payload] = {}
        self.members: dict[int, Payload] = {}  # user id -> member payload *without* "user"
        self.roles: dict[int, Payload] = {}
        self.channels: dict[int, Payload] = {}  # guild channels, categories included
        self.threads: dict[int, Payload] = {}
        self.dm_channels: dict[int, Payload] = {}  # channel id -> DM channel
        self.other_guilds: dict[int, OtherGuild] = {}  # further guilds the bot is in (add_guild)

        self.add_user(self.bot_id, "newsbot", bot=True)
        self.add_user(self.owner_id, "olivia")
        self.add_user(self.admin_id, "alice")
        self.add_user(self.member_id, "bob")

        self.roles[self.everyone_role_id] = role_payload(
            self.everyone_role_id, "@everyone", EVERYONE_PERMS, 0
        )
        self.roles[self.subscriber_role_id] = role_payload(self.subscriber_role_id, "Subscriber", 0, 1)
        self.roles[self.bot_role_id] = role_payload(
            self.bot_role_id, "NewsBot", BOT_PERMS, 2, managed=True, tags={"bot_id": str(self.bot_id)}
        )
        self.roles[self.admin_role_id] = role_payload(self.admin_role_id, "Admin", ADMIN_PERMS, 3)

        self.add_member(self.bot_id, [self.bot_role_id])
        self.add_member(self.owner_id, [])
        self.add_member(self.admin_id, [self.admin_role_id])
        self.add_member(self.member_id, [self.subscriber_role_id])

        self.add_channel(self.category_id, "News", type=4, position=0, parent_id=None)
        self.add_channel(self.general_id, "general", position=0, topic="General chatter")
        self.add_channel(self.news_desk_id, "news-desk", position=1, topic="Ask the bot about the news")
        self.add_channel(
            self.announcements_id,
            "announcements",
            position=2,
            topic="Read only",
            permission_overwrites=[overwrite(self.everyone_role_id, deny=Perm.SEND_MESSAGES)],
        )
        self.add_thread(self.thread_id, self.general_id, "breaking-news", owner_id=self.admin_id)

    # -- building ---------------------------------------------------------------------------------
    def add_guild(self, name: str) -> OtherGuild:
        """Another guild the bot is in: @everyone, an Admin role (Manage Server), the bot, an admin
        user, a member user and a #general channel. Call before the bot connects."""
        ids = [self.next_seed_id() for _ in range(6)]
        guild_id, admin_id, member_id, channel_id, admin_role_id, bot_role_id = ids
        guild = OtherGuild(guild_id, name, admin_id, member_id, channel_id, admin_role_id)
        guild.roles[guild_id] = role_payload(guild_id, "@everyone", EVERYONE_PERMS, 0)
        guild.roles[admin_role_id] = role_payload(admin_role_id, "Admin", ADMIN_PERMS, 2)
        guild.roles[bot_role_id] = role_payload(
            bot_role_id, "NewsBot", BOT_PERMS, 1, managed=True, tags={"bot_id": str(self.bot_id)}
        )
        self.add_user(admin_id, f"{name.lower()}-admin")
        self.add_user(member_id, f"{name.lower()}-member")
        for user_id, roles in ((self.bot_id, [bot_role_id]), (admin_id, [admin_role_id]), (member_id, [])):
            guild.members[user_id] = self._member(roles)
        guild.channels[channel_id] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "flags": 0,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "default_auto_archive_duration": 1440,
        }
        self.other_guilds[guild_id] = guild
        return guild

    def guild_for_channel(self, channel_id: int) -> OtherGuild | None:
        """The further guild holding this channel, if any."""
        return next((g for g in self.other_guilds.values() if channel_id in g.channels), None)

    def next_seed_id(self) -> int:
        """A fresh id for extra seeded objects (stable across runs)."""
        return next(self._seed_iter)

    def add_user(self, user_id: int, username: str, *, bot: bool = False) -> Payload:
        self.users[user_id] = user_payload(user_id, username, bot=bot)
        return self.users[user_id]

    def add_member(self, user_id: int, role_ids: list[int], *, nick: str | None = None) -> Payload:
        self.members[user_id] = self._member(role_ids, nick=nick)
        return self.members[user_id]

    @staticmethod
    def _member(role_ids: list[int], *, nick: str | None = None) -> Payload:
        return {
            "roles": [str(r) for r in role_ids],
            "nick": nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(_SEED_TIME),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def add_channel(
        self,
        channel_id: int,
        name: str,
        *,
        type: int = 0,
        position: int = 0,
        parent_id: int | str | None = "default",
        topic: str | None = None,
        permission_overwrites: list[Payload] | None = None,
    ) -> Payload:
        parent = self.category_id if parent_id == "default" else parent_id
        data: Payload = {
            "id": str(channel_id),
            "type": type,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": permission_overwrites or [],
            "parent_id": str(parent) if parent else None,
            "flags": 0,
        }
        if type in (0, 5):
            data |= {"topic": topic, "nsfw": False, "rate_limit_per_user": 0, "last_message_id": None}
            data["default_auto_archive_duration"] = 1440
        self.channels[channel_id] = data
        return data

    def add_thread(
        self, thread_id: int, parent_id: int, name: str, *, owner_id: int, type: int = 11, **extra: Any
    ) -> Payload:
        data: Payload = {
            "id": str(thread_id),
            "type": type,
            "guild_id": str(self.guild_id),
            "parent_id": str(parent_id),
            "owner_id": str(owner_id),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": extra.pop("auto_archive_duration", 1440),
                "archive_timestamp": iso(),
                "locked": False,
                "create_timestamp": iso(),
            },
            **extra,
        }
        self.threads[thread_id] = data
        return data

    def dm_channel_for(self, user_id: int, channel_id: int) -> Payload:
        """The DM channel with ``user_id``, created with ``channel_id`` if it does not exist yet."""
        for channel in self.dm_channels.values():
            if channel["recipients"][0]["id"] == str(user_id):
                return channel
        channel = {"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0}
        channel["recipients"] = [self.users[user_id]]
        self.dm_channels[channel_id] = channel
        return channel

    # -- lookups ----------------------------------------------------------------------------------
    def channel(self, channel_id: int) -> Payload | None:
        other = self.guild_for_channel(channel_id)
        return (
            self.channels.get(channel_id)
            or self.threads.get(channel_id)
            or self.dm_channels.get(channel_id)
            or (other.channels[channel_id] if other else None)
        )

    def channel_id(self, name: str) -> int:
        """Id of the guild channel or thread called ``name``."""
        for cid, data in (*self.channels.items(), *self.threads.items()):
            if data["name"] == name:
                return cid
        raise KeyError(f"no channel named {name!r}")

    def guild_of(self, channel_id: int) -> int | None:
        """Guild id of a channel, ``None`` for DMs. Raises ``KeyError`` for unknown channels."""
        if channel_id in self.channels or channel_id in self.threads:
            return self.guild_id
        if channel_id in self.dm_channels:
            return None
        if (other := self.guild_for_channel(channel_id)) is not None:
            return other.guild_id
        raise KeyError(f"unknown channel {channel_id}")

    def user(self, user_id: int) -> Payload:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; add it with world.add_user()") from None

    def member_payload(
        self, user_id: int, *, with_user: bool = True, channel_id: int | None = None
    ) -> Payload:
        """Member JSON; ``channel_id`` adds the ``permissions`` string interactions carry."""
        other = self.guild_for_channel(channel_id) if channel_id is not None else None
        data = dict(other.members[user_id] if other else self.members[user_id])
        if with_user:
            data["user"] = self.user(user_id)
        if channel_id is not None:
            data["permissions"] = str(self.permissions(user_id, channel_id))
        return data

    def role_list(self) -> list[Payload]:
        return sorted(self.roles.values(), key=lambda r: r["position"])

    # -- permissions ------------------------------------------------------------------------------
    def base_permissions(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        perms = int(self.roles[self.everyone_role_id]["permissions"])
        for role_id in member["roles"]:
            perms |= int(self.roles[int(role_id)]["permissions"])
        return ALL_PERMISSIONS if perms & Perm.ADMINISTRATOR else perms

    def permissions(self, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission algorithm: base permissions, then channel overwrites."""
        if channel_id is not None and (other := self.guild_for_channel(channel_id)) is not None:
            return other.permissions(user_id)  # (further guilds have no overwrites)
        perms = self.base_permissions(user_id)
        if channel_id is None or perms == ALL_PERMISSIONS:
            return perms
        if channel_id in self.dm_channels:
            return int(EVERYONE_PERMS)
        channel = self.channel(channel_id)
        if channel is None:
            return perms
        if channel["type"] in THREAD_TYPES:
            channel = self.channels.get(int(channel["parent_id"]), channel)
        overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
        member_roles = {int(r) for r in self.members[user_id]["roles"]}

        def apply(perms: int, allow: int, deny: int) -> int:
            return (perms & ~deny) | allow

        if everyone := overwrites.get(self.everyone_role_id):
            perms = apply(perms, int(everyone["allow"]), int(everyone["deny"]))
        allow = deny = 0
        for target_id, ow in overwrites.items():
            if ow["type"] == 0 and target_id in member_roles:
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        perms = apply(perms, allow, deny)
        if (own := overwrites.get(user_id)) and own["type"] == 1:
            perms = apply(perms, int(own["allow"]), int(own["deny"]))
        return perms
