"""Injecting what users and Discord do (messages, interactions, reactions) into the gateway.

Mixed into :class:`~.server.FakeDiscord`; also holds the hooks the REST handlers use to publish
the bot's own messages back on the gateway, as Discord does.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import payloads
from .gateway import GatewayHub
from .messages import MessageStore
from .recorder import Feed, InteractionRecord
from .world import Payload, World

if TYPE_CHECKING:
    import discord

CommandScope = int | Literal["auto"] | None


class EventInjection:
    """The ``send_*``/``click_*`` API of the fake, plus gateway publishing helpers."""

    world: World
    store: MessageStore
    hub: GatewayHub
    commands: dict[int | None, dict[int, Payload]]
    interactions: dict[int, InteractionRecord]
    interactions_by_token: dict[str, InteractionRecord]
    bot_messages_feed: Feed[Payload]
    echo_bot_messages: bool
    bot: discord.Client | None
    new_id: Callable[[], int]

    @staticmethod
    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    @property
    def bot_messages(self) -> list[Payload]:
        """Messages the bot made visible (sent, interaction responses, completed defers), in order."""
        return self.bot_messages_feed.items

    # -- injecting events -------------------------------------------------------------------------
    async def dispatch(self, event: str, data: Payload) -> int:
        """Send a raw gateway event to the bot (routed by ``data["guild_id"]``; intents applied)."""
        await self.hub.wait_identified()
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        return await self.hub.dispatch(event, data, guild_id=guild_id)

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        mentions: Sequence[int] = (),
        mention_roles: Sequence[int] = (),
        reference: int | None = None,
        embeds: Sequence[Payload] = (),
        attachments: Sequence[tuple[str, bytes]] = (),
    ) -> Payload:
        """A user posts a message: stored, then dispatched as MESSAGE_CREATE. Returns its payload.

        ``mentions`` are user ids (``<@id>`` in ``content`` are found automatically);
        ``reference`` is the id of a stored message this one replies to; ``attachments`` are
        ``(filename, bytes)`` served back by the fake CDN.
        """
        referenced = None
        if reference is not None and (referenced := self.store.by_id.get(reference)) is None:
            raise KeyError(f"message {reference} is not known to the fake")
        files = [self.store.attach(channel_id, name, data) for name, data in attachments]
        message = payloads.message_payload(
            self.world,
            message_id=self.new_id(),
            channel_id=channel_id,
            author_id=author_id,
            content=content,
            mentions=mentions,
            mention_roles=mention_roles,
            referenced=referenced,
            embeds=embeds,
            attachments=files,
        )
        self.store.add(message)
        await self.dispatch("MESSAGE_CREATE", payloads.gateway_message(self.world, message))
        return message

    async def edit_message(self, message_id: int, content: str) -> Payload:
        """A user edits their message: MESSAGE_UPDATE."""
        message = self.store.by_id[message_id]
        self.store.apply_edit(message, {"content": content}, [])
        await self.dispatch("MESSAGE_UPDATE", payloads.gateway_message(self.world, message))
        return message

    async def delete_message(self, message_id: int) -> None:
        """A user deletes a message: MESSAGE_DELETE."""
        await self.delete_stored_message(self.store.by_id[message_id], force_echo=True)

    async def add_reaction(self, message_id: int, user_id: int, emoji: str) -> None:
        """A user reacts with a unicode ``emoji`` (or ``"name:id"``): MESSAGE_REACTION_ADD."""
        message = self.store.by_id[message_id]
        name, _, emoji_id = emoji.partition(":")
        await self.reaction_event(
            "MESSAGE_REACTION_ADD", message, user_id, {"id": emoji_id or None, "name": name}
        )

    async def send_interaction(
        self,
        type: int,
        data: Payload,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        message: Payload | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Dispatch an INTERACTION_CREATE with ``data`` (see the typed helpers below).

        Returns the :class:`InteractionRecord` that tracks callbacks and ack latency.
        """
        interaction_id, token = self.new_id(), "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload = payloads.interaction_payload(
            self.world,
            interaction_id=interaction_id,
            token=token,
            type=type,
            data=data,
            user_id=user_id or self.world.member_id,
            channel_id=channel_id or self.world.general_id,
            message=message,
            locale=locale,
        )
        await self.hub.wait_identified()
        rec = InteractionRecord(interaction_id, token, type, payload, dispatched_at=self.loop_time())
        self.interactions[interaction_id] = self.interactions_by_token[token] = rec
        await self.dispatch("INTERACTION_CREATE", payload)
        return rec

    def _command_ref(
        self, name: str, kind: int, guild_id: CommandScope, channel_id: int | None = None
    ) -> tuple[int, int | None]:
        """(command id, data.guild_id) of a registered command, the way Discord would send them
        ("auto": the commands of the channel's guild, else global ones)."""
        root = name.split()[0]
        here = self.world.guild_of(channel_id) if channel_id and self.world.channel(channel_id) else None
        scopes = [here or self.world.guild_id, None] if guild_id == "auto" else [guild_id]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == root and cmd["type"] == kind:
                    return int(cmd["id"]), scope
        return self.new_id(), None if guild_id == "auto" else guild_id

    async def send_slash_command(
        self,
        name: str,
        options: dict[str, Any] | Sequence[Payload] | None = None,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        command_guild_id: CommandScope = "auto",
        locale: str = "en-US",
    ) -> InteractionRecord:
        """``/name`` invoked (``name`` may be ``"group sub"``); see ``payloads.command_data``.

        ``command_guild_id="auto"`` copies what the bot registered: guild commands carry
        ``data.guild_id`` (discord.py needs it to find a guild-only command). Pass the guild id
        explicitly for commands the test did not sync.
        """
        cmd_id, cmd_guild = self._command_ref(name, 1, command_guild_id, channel_id)
        data = payloads.command_data(self.world, name, options, command_id=cmd_id, command_guild_id=cmd_guild)
        return await self.send_interaction(
            payloads.APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel_id, locale=locale
        )

    async def send_autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        command_guild_id: CommandScope = "auto",
    ) -> InteractionRecord:
        """The user is typing option ``focused`` of ``/name`` (its current text is in ``options``)."""
        cmd_id, cmd_guild = self._command_ref(name, 1, command_guild_id, channel_id)
        data = payloads.command_data(
            self.world, name, options, command_id=cmd_id, command_guild_id=cmd_guild, focused=focused
        )
        return await self.send_interaction(
            payloads.AUTOCOMPLETE, data, user_id=user_id, channel_id=channel_id
        )

    async def send_message_command(
        self,
        name: str,
        target_message_id: int,
        *,
        user_id: int | None = None,
        command_guild_id: CommandScope = "auto",
    ) -> InteractionRecord:
        """Message context menu ``name`` used on a stored message (type 2, ``data.type`` 3)."""
        target = self.store.by_id[target_message_id]
        cmd_id, cmd_guild = self._command_ref(name, 3, command_guild_id)
        data: Payload = {
            "id": str(cmd_id),
            "name": name,
            "type": 3,
            "target_id": str(target_message_id),
            "resolved": {"messages": {str(target_message_id): target}},
        }
        if cmd_guild is not None:
            data["guild_id"] = str(cmd_guild)
        channel_id = int(target["channel_id"])
        return await self.send_interaction(
            payloads.APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel_id
        )

    async def send_user_command(
        self,
        name: str,
        target_user_id: int,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        command_guild_id: CommandScope = "auto",
    ) -> InteractionRecord:
        """User context menu ``name`` used on ``target_user_id`` (type 2, ``data.type`` 2)."""
        cmd_id, cmd_guild = self._command_ref(name, 2, command_guild_id)
        resolved: Payload = {"users": {str(target_user_id): self.world.user(target_user_id)}}
        if target_user_id in self.world.members:
            member = self.world.member_payload(target_user_id, with_user=False) | {"permissions": "0"}
            resolved["members"] = {str(target_user_id): member}
        data: Payload = {"id": str(cmd_id), "name": name, "type": 2, "target_id": str(target_user_id)}
        data["resolved"] = resolved
        if cmd_guild is not None:
            data["guild_id"] = str(cmd_guild)
        return await self.send_interaction(
            payloads.APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel_id
        )

    async def click_component(
        self,
        message_id: int,
        custom_id: str,
        *,
        user_id: int | None = None,
        values: Sequence[str] | None = None,
        component_type: int | None = None,
    ) -> InteractionRecord:
        """A user clicks button ``custom_id`` on a stored message (or picks ``values`` in a select)."""
        message = self.store.by_id[message_id]
        data: Payload = {"custom_id": custom_id, "component_type": component_type or (3 if values else 2)}
        await self._wait_for_view(message_id, data["component_type"], custom_id)
        if values is not None:
            data["values"] = list(values)
        return await self.send_interaction(
            payloads.MESSAGE_COMPONENT,
            data,
            user_id=user_id,
            channel_id=int(message["channel_id"]),
            message=message,
        )

    async def _wait_for_view(self, message_id: int, component_type: int, custom_id: str) -> None:
        """Give the bot up to 1 s to register the view of a message it just sent.

        The fake answers the bot's HTTP request before discord.py has stored the view, so an
        immediate click could otherwise race it. (Peeks at discord.py's ViewStore.)
        """
        if self.bot is None:
            return
        store = self.bot._connection._view_store
        key = (component_type, custom_id)
        deadline = self.loop_time() + 1.0
        while self.loop_time() < deadline:
            if key in store._views.get(message_id, {}) or key in store._views.get(None, {}):
                return
            if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
                return
            await asyncio.sleep(0.002)

    async def remove_bot_from_guild(self, guild_id: int) -> None:
        """The bot is kicked from (or leaves) a guild: its membership goes, then GUILD_DELETE."""
        self.world.guild(guild_id).members.pop(self.world.bot_id, None)
        await self.hub.wait_identified()
        await self.hub.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id=guild_id)

    async def add_bot_to_guild(self, guild_id: int) -> None:
        """The bot is invited (back) to a seeded guild: membership, then GUILD_CREATE."""
        guild = self.world.guild(guild_id)
        if self.world.bot_id not in guild.members:
            self.world.add_member(self.world.bot_id, [guild.bot_role_id], guild_id=guild_id)
        await self.hub.wait_identified()
        data = payloads.guild_create_payload(self.world, guild_id)
        del data["unavailable"]  # absent on a join (False would be a guild coming back from an outage)
        await self.hub.dispatch("GUILD_CREATE", data, guild_id=guild_id)

    async def delete_channel(self, channel_id: int) -> None:
        """A guild channel is deleted: gone from the world (REST answers Unknown Channel), CHANNEL_DELETE."""
        channel = self.world.channels.pop(channel_id)
        await self.dispatch("CHANNEL_DELETE", channel)

    async def reconnect_gateway(self) -> None:
        """Ask the bot to reconnect (op 7); it comes back with RESUME."""
        await self.hub.send_reconnect()

    # -- used by the REST handlers ----------------------------------------------------------------
    async def publish_bot_message(
        self, message: Payload, *, event: str = "MESSAGE_CREATE", visible: bool = True
    ) -> None:
        """Store a message the bot produced, echo it on the gateway, and expose it to waiters."""
        self.store.add(message)
        shown = visible and not message["flags"] & payloads.FLAG_LOADING
        first_time = not any(m is message for m in self.bot_messages)
        if shown and first_time and int(message["author"]["id"]) == self.world.bot_id:
            self.bot_messages_feed.add(message)
        if self.echo_bot_messages and not message["flags"] & payloads.FLAG_EPHEMERAL:
            await self.dispatch(event, payloads.gateway_message(self.world, message))

    async def delete_stored_message(self, message: Payload, *, force_echo: bool = False) -> None:
        del self.store.by_id[int(message["id"])]
        if (self.echo_bot_messages or force_echo) and not message["flags"] & payloads.FLAG_EPHEMERAL:
            data = {"id": message["id"], "channel_id": message["channel_id"]}
            if (guild_id := self.world.guild_of(int(message["channel_id"]))) is not None:
                data["guild_id"] = str(guild_id)
            await self.dispatch("MESSAGE_DELETE", data)

    async def reaction_event(self, event: str, message: Payload, user_id: int, emoji: Payload) -> None:
        data: Payload = {
            "user_id": str(user_id),
            "channel_id": message["channel_id"],
            "message_id": message["id"],
            "emoji": emoji,
            "burst": False,
            "type": 0,
        }
        if (guild_id := self.world.guild_of(int(message["channel_id"]))) is not None:
            data["guild_id"] = str(guild_id)
            if event == "MESSAGE_REACTION_ADD":
                data["member"] = self.world.member_payload(user_id, guild_id=guild_id)
                data["message_author_id"] = message["author"]["id"]
        if user_id != self.world.bot_id or self.echo_bot_messages:
            await self.dispatch(event, data)
