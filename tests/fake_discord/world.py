"""The seeded state of the fake Discord: one guild with roles, channels, a thread and members.

Everything is stored in Discord's JSON shapes (ids as strings), so REST and gateway payloads can
be cut straight from it. Tests reach the seeded ids through attributes (``world.general_id``,
``world.admin_id`` ...) and may add users/members/channels before the bot connects.

More guilds: ``world.add_guild("Other")`` seeds a second guild (its own owner, admin, member, roles
and ``#general``) and returns its :class:`GuildSeed`; members and roles are kept per guild, and a
channel belongs to the guild named in its ``guild_id``. The application's owner is the first guild's
owner unless ``world.set_team(...)`` makes a team own it.
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
class GuildSeed:
    """One guild of the world: its name, owner, members and roles (and, for added guilds, seeded ids)."""

    id: int
    name: str
    owner_id: int
    members: dict[int, Payload] = field(default_factory=dict)  # user id -> member payload without "user"
    roles: dict[int, Payload] = field(default_factory=dict)
    admin_id: int = 0
    member_id: int = 0
    admin_role_id: int = 0
    bot_role_id: int = 0
    general_id: int = 0

    @property
    def everyone_role_id(self) -> int:
        return self.id

    @property
    def guild_id(self) -> int:
        return self.id

    @property
    def channel_id(self) -> int:
        """Its ``#general`` (the one channel an added guild is seeded with)."""
        return self.general_id


class World:
    """Seeded guilds (one unless ``add_guild``) plus DMs. Mutate it before the bot connects."""

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
        self.members: dict[int, Payload] = {}  # the first guild's: user id -> member payload *without* "user"
        self.roles: dict[int, Payload] = {}  # the first guild's
        first = GuildSeed(self.guild_id, self.guild_name, self.owner_id, self.members, self.roles)
        first.admin_id, first.member_id, first.general_id = self.admin_id, self.member_id, self.general_id
        first.admin_role_id, first.bot_role_id = self.admin_role_id, self.bot_role_id
        self.guilds: dict[int, GuildSeed] = {self.guild_id: first}
        #: The team owning the application (``set_team``); None: ``owner_id`` owns it alone.
        self.team: Payload | None = None
        self.channels: dict[int, Payload] = {}  # guild channels of every guild, categories included
        self.threads: dict[int, Payload] = {}
        self.dm_channels: dict[int, Payload] = {}  # channel id -> DM channel

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
    def next_seed_id(self) -> int:
        """A fresh id for extra seeded objects (stable across runs)."""
        return next(self._seed_iter)

    def add_user(self, user_id: int, username: str, *, bot: bool = False) -> Payload:
        self.users[user_id] = user_payload(user_id, username, bot=bot)
        return self.users[user_id]

    def add_guild(self, name: str) -> GuildSeed:
        """Seed another guild the bot is in: an owner, an admin, a member, @everyone, Admin and the
        bot's role, and a ``#general`` channel. Returns its :class:`GuildSeed` (ids as attributes)."""
        sf = self._seed_iter
        guild = GuildSeed(next(sf), name, next(sf))
        guild.admin_id, guild.member_id = next(sf), next(sf)
        guild.admin_role_id, guild.bot_role_id, guild.general_id = next(sf), next(sf), next(sf)
        self.guilds[guild.id] = guild
        slug = "".join(c for c in name.lower() if c.isalnum()) or "guild"
        self.add_user(guild.owner_id, f"owner-{slug}")
        self.add_user(guild.admin_id, f"admin-{slug}")
        self.add_user(guild.member_id, f"member-{slug}")
        guild.roles[guild.id] = role_payload(guild.id, "@everyone", EVERYONE_PERMS, 0)
        guild.roles[guild.bot_role_id] = role_payload(
            guild.bot_role_id, "NewsBot", BOT_PERMS, 1, managed=True, tags={"bot_id": str(self.bot_id)}
        )
        guild.roles[guild.admin_role_id] = role_payload(guild.admin_role_id, "Admin", ADMIN_PERMS, 2)
        self.add_member(self.bot_id, [guild.bot_role_id], guild_id=guild.id)
        self.add_member(guild.owner_id, [], guild_id=guild.id)
        self.add_member(guild.admin_id, [guild.admin_role_id], guild_id=guild.id)
        self.add_member(guild.member_id, [], guild_id=guild.id)
        self.add_channel(guild.general_id, "general", parent_id=None, guild_id=guild.id)
        return guild

    def set_team(self, owner_id: int, member_ids: list[int] = (), *, role: str = "developer") -> Payload:
        """Make a team own the application: ``owner_id`` (admin) plus ``member_ids`` with ``role``."""
        team_id = self.next_seed_id()

        def member(user_id: int, member_role: str) -> Payload:
            return {
                "membership_state": 2,
                "permissions": ["*"],
                "team_id": str(team_id),
                "user": self.user(user_id),
                "role": member_role,
            }

        self.team = {
            "id": str(team_id),
            "name": "Newsroom team",
            "icon": None,
            "owner_user_id": str(owner_id),
            "members": [member(owner_id, "admin"), *(member(uid, role) for uid in member_ids)],
        }
        return self.team

    def add_member(
        self, user_id: int, role_ids: list[int], *, nick: str | None = None, guild_id: int | None = None
    ) -> Payload:
        members = self.guilds[guild_id or self.guild_id].members
        members[user_id] = {
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
        return members[user_id]

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
        guild_id: int | None = None,
    ) -> Payload:
        parent = self.category_id if parent_id == "default" else parent_id
        data: Payload = {
            "id": str(channel_id),
            "type": type,
            "guild_id": str(guild_id or self.guild_id),
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
        parent = self.channels.get(parent_id)
        data: Payload = {
            "id": str(thread_id),
            "type": type,
            "guild_id": parent["guild_id"] if parent else str(self.guild_id),
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
        return (
            self.channels.get(channel_id) or self.threads.get(channel_id) or self.dm_channels.get(channel_id)
        )

    def channel_id(self, name: str) -> int:
        """Id of the guild channel or thread called ``name``."""
        for cid, data in (*self.channels.items(), *self.threads.items()):
            if data["name"] == name:
                return cid
        raise KeyError(f"no channel named {name!r}")

    def guild_of(self, channel_id: int) -> int | None:
        """Guild id of a channel, ``None`` for DMs. Raises ``KeyError`` for unknown channels."""
        if (channel := self.channels.get(channel_id) or self.threads.get(channel_id)) is not None:
            return int(channel["guild_id"])
        if channel_id in self.dm_channels:
            return None
        raise KeyError(f"unknown channel {channel_id}")

    def guild(self, guild_id: int | None = None) -> GuildSeed:
        return self.guilds[guild_id or self.guild_id]

    def bot_guilds(self) -> list[int]:
        """Ids of the guilds the bot is a member of, in seeding order."""
        return [gid for gid, guild in self.guilds.items() if self.bot_id in guild.members]

    def guild_channels(self, guild_id: int | None = None) -> list[Payload]:
        gid = str(guild_id or self.guild_id)
        return [c for c in self.channels.values() if c["guild_id"] == gid]

    def guild_threads(self, guild_id: int | None = None) -> list[Payload]:
        gid = str(guild_id or self.guild_id)
        return [t for t in self.threads.values() if t["guild_id"] == gid]

    def user(self, user_id: int) -> Payload:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; add it with world.add_user()") from None

    def member_payload(
        self,
        user_id: int,
        *,
        with_user: bool = True,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> Payload:
        """Member JSON (in the guild of ``channel_id``, else ``guild_id``, else the first guild);
        ``channel_id`` adds the ``permissions`` string interactions carry."""
        if channel_id is not None and channel_id not in self.dm_channels:
            guild_id = self.guild_of(channel_id) if self.channel(channel_id) else guild_id
        data = dict(self.guild(guild_id).members[user_id])
        if with_user:
            data["user"] = self.user(user_id)
        if channel_id is not None:
            data["permissions"] = str(self.permissions(user_id, channel_id))
        return data

    def role_list(self, guild_id: int | None = None) -> list[Payload]:
        return sorted(self.guild(guild_id).roles.values(), key=lambda r: r["position"])

    # -- permissions ------------------------------------------------------------------------------
    def base_permissions(self, user_id: int, guild_id: int | None = None) -> int:
        guild = self.guild(guild_id)
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = int(guild.roles[guild.id]["permissions"])
        for role_id in member["roles"]:
            perms |= int(guild.roles[int(role_id)]["permissions"])
        return ALL_PERMISSIONS if perms & Perm.ADMINISTRATOR else perms

    def permissions(self, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission algorithm: base permissions, then channel overwrites."""
        if channel_id is not None and channel_id in self.dm_channels:
            perms = self.base_permissions(user_id)
            return perms if perms == ALL_PERMISSIONS else int(EVERYONE_PERMS)
        channel = None if channel_id is None else self.channel(channel_id)
        guild = self.guild(None if channel is None else int(channel["guild_id"]))
        perms = self.base_permissions(user_id, guild.id)
        if channel is None or perms == ALL_PERMISSIONS or user_id not in guild.members:
            return perms
        if channel["type"] in THREAD_TYPES:
            channel = self.channels.get(int(channel["parent_id"]), channel)
        overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
        member_roles = {int(r) for r in guild.members[user_id]["roles"]}

        def apply(perms: int, allow: int, deny: int) -> int:
            return (perms & ~deny) | allow

        if everyone := overwrites.get(guild.id):
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
