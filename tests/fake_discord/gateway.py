"""The gateway websocket: HELLO/IDENTIFY/RESUME/heartbeats, READY + GUILD_CREATE, event dispatch.

Implements the parts of https://discord.com/developers/docs/events/gateway a bot relies on:
``zlib-stream`` transport compression (one shared zlib context per connection, every message
ended with ``Z_SYNC_FLUSH``) or ``zstd-stream`` when a zstd module is importable, sequence
numbers per session, resuming with replay of missed events, shard routing
(``(guild_id >> 22) % num_shards``) and intent filtering (including the MESSAGE_CONTENT rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .world import Payload, World

# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

# Intents.
GUILDS, GUILD_MEMBERS, GUILD_PRESENCES = 1 << 0, 1 << 1, 1 << 8
GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS = 1 << 9, 1 << 10
DIRECT_MESSAGES, DIRECT_MESSAGE_REACTIONS, MESSAGE_CONTENT = 1 << 12, 1 << 13, 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

_GUILD_EVENTS = ("GUILD_", "CHANNEL_", "THREAD_")
_MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK")


def make_compressor(kind: str | None) -> Callable[[bytes], bytes] | None:
    """Transport compressor for the ``compress`` query parameter (``None`` = plain text frames)."""
    if kind is None:
        return None
    if kind == "zlib-stream":
        ctx = zlib.compressobj()
        return lambda data: ctx.compress(data) + ctx.flush(zlib.Z_SYNC_FLUSH)
    if kind == "zstd-stream":
        try:  # Python 3.14+
            from compression import zstd  # type: ignore[import-not-found]

            std = zstd.ZstdCompressor()
            return lambda data: std.compress(data, mode=zstd.ZstdCompressor.FLUSH_BLOCK)
        except ImportError:
            import zstandard  # type: ignore[import-not-found]  # discord.py only asks for zstd if it has it

            obj = zstandard.ZstdCompressor().compressobj()
            return lambda data: obj.compress(data) + obj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    raise ValueError(f"unsupported gateway compression {kind!r}")


def filter_for_intents(event: str, data: Payload, intents: int, bot_id: int) -> Payload | None:
    """What a session with ``intents`` receives for ``event``: ``data``, a redacted copy, or nothing."""
    is_dm = "guild_id" not in data
    if event.startswith("MESSAGE_REACTION"):
        return data if intents & (DIRECT_MESSAGE_REACTIONS if is_dm else GUILD_MESSAGE_REACTIONS) else None
    if event in _MESSAGE_EVENTS:
        if not intents & (DIRECT_MESSAGES if is_dm else GUILD_MESSAGES):
            return None
        mentioned = any(int(u["id"]) == bot_id for u in data.get("mentions", []))
        own = int(data.get("author", {}).get("id", 0)) == bot_id
        if event != "MESSAGE_DELETE" and not (intents & MESSAGE_CONTENT or is_dm or mentioned or own):
            # Privileged MESSAGE_CONTENT intent missing: Discord blanks these fields.
            data = data | {"content": "", "embeds": [], "attachments": [], "components": []}
            if "poll" in data:
                del data["poll"]
        return data
    if event.startswith("GUILD_MEMBER") and event != "GUILD_MEMBERS_CHUNK":
        return data if intents & GUILD_MEMBERS else None
    if event.startswith(_GUILD_EVENTS) and event != "GUILD_MEMBERS_CHUNK":
        return data if intents & GUILDS else None
    return data


@dataclass
class GatewaySession:
    """A gateway session: survives reconnects, owns the sequence number, buffers for RESUME."""

    session_id: str
    shard: list[int] | None
    intents: int
    identify: Payload
    seq: int = 0
    sent: list[tuple[int, str, Payload]] = field(default_factory=list)
    connection: GatewayConnection | None = None

    def owns_guild(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (0 if guild_id is None else (guild_id >> 22) % count) == shard_id


class GatewayConnection:
    """One websocket connection (a session may span several of them)."""

    def __init__(self, hub: GatewayHub, ws: web.WebSocketResponse, compress: str | None, path: str) -> None:
        self.hub = hub
        self.ws = ws
        self.path = path
        self.compress = compress
        self._compressor = make_compressor(compress)
        self._lock = asyncio.Lock()
        self.session: GatewaySession | None = None

    async def send(self, op: int, d: Any, *, s: int | None = None, t: str | None = None) -> None:
        async with self._lock:
            if self.ws.closed:
                return
            raw = json.dumps({"op": op, "d": d, "s": s, "t": t}, separators=(",", ":"))
            if self._compressor is None:
                await self.ws.send_str(raw)
            else:
                await self.ws.send_bytes(self._compressor(raw.encode()))

    async def dispatch(self, session: GatewaySession, event: str, data: Payload) -> None:
        session.seq += 1
        session.sent.append((session.seq, event, data))
        await self.send(DISPATCH, data, s=session.seq, t=event)

    async def close(self, code: int, message: str = "") -> None:
        await self.ws.close(code=code, message=message.encode())

    async def run(self) -> None:
        hub = self.hub
        await self.send(HELLO, {"heartbeat_interval": hub.heartbeat_interval_ms, "_trace": ["fake-discord"]})
        async for msg in self.ws:
            if msg.type is not WSMsgType.TEXT:
                if msg.type is WSMsgType.BINARY:
                    await self.close(4002, "Error while decoding payload.")
                continue
            try:
                payload = json.loads(msg.data)
            except ValueError:
                await self.close(4002, "Error while decoding payload.")
                continue
            hub.received.append(payload)
            await self._handle(payload.get("op"), payload.get("d"))

    async def _handle(self, op: int | None, d: Any) -> None:
        hub = self.hub
        if op == HEARTBEAT:
            hub.heartbeats += 1
            await self.send(HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await hub.identify(self, d)
        elif op == RESUME:
            await hub.resume(self, d)
        elif op == REQUEST_MEMBERS:
            await hub.request_members(self, d)
        elif op == PRESENCE:
            hub.presence_updates.append(d)
        elif op == VOICE_STATE:
            pass
        else:
            await self.close(4001, "Unknown opcode.")


class GatewayHub:
    """All gateway sessions of one fake Discord; routes dispatched events to them."""

    def __init__(self, world: World, token: str, *, heartbeat_interval_ms: int = 41250) -> None:
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_url = ""  # set by the server once it knows its port
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        #: IDENTIFY ``d`` payloads, in order (``token`` included).
        self.identifies: list[Payload] = []
        self.resumes: list[Payload] = []
        self.presence_updates: list[Payload] = []
        self.received: list[Payload] = []  # every frame the bot sent
        self.connection_log: list[tuple[str, dict[str, str]]] = []  # (path, query) of each ws connect
        self.heartbeats = 0
        #: Intents the "developer portal" allows; privileged ones outside it close with 4014.
        self.allowed_intents: int = (1 << 26) - 1
        self._identified = asyncio.Event()

    # -- aiohttp handler --------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        query = dict(request.query)
        self.connection_log.append((request.path, query))
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if query.get("encoding", "json") != "json" or query.get("v", "10") != "10":
            await ws.close(code=4012, message=b"Invalid API version or encoding (the fake speaks v10 json).")
            return ws
        conn = GatewayConnection(self, ws, query.get("compress"), request.path)
        self.connections.append(conn)
        try:
            await conn.run()
        except ConnectionResetError:
            pass
        finally:
            self.connections.remove(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
        return ws

    # -- session lifecycle ------------------------------------------------------------------------
    async def identify(self, conn: GatewayConnection, d: Payload) -> None:
        self.identifies.append(d)
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.allowed_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
            await conn.close(4010, "Invalid shard.")
            return
        session = GatewaySession(secrets.token_hex(16), shard, intents, d, connection=conn)
        self.sessions[session.session_id] = session
        conn.session = session
        world = self.world
        ready = payloads.ready_payload(
            world, session_id=session.session_id, resume_url=self.resume_url, shard=shard
        )
        ready["guilds"] = [g for g in ready["guilds"] if session.owns_guild(int(g["id"]))]
        await conn.dispatch(session, "READY", ready)
        for guild_id in world.bot_guilds():
            if session.owns_guild(guild_id) and intents & GUILDS:
                guild = payloads.guild_create_payload(
                    world, guild_id, all_members=bool(intents & GUILD_PRESENCES)
                )
                await conn.dispatch(session, "GUILD_CREATE", guild)
        self._identified.set()

    async def resume(self, conn: GatewayConnection, d: Payload) -> None:
        self.resumes.append(d)
        session = self.sessions.get(d.get("session_id", ""))
        if d.get("token") != self.token:
            await conn.close(4004, "Authentication failed.")
            return
        if session is None:
            await conn.send(INVALID_SESSION, False)
            return
        conn.session, session.connection = session, conn
        last_seen = d.get("seq") or 0
        for seq, event, data in [e for e in session.sent if e[0] > last_seen]:
            await conn.send(DISPATCH, data, s=seq, t=event)
        await conn.dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def request_members(self, conn: GatewayConnection, d: Payload) -> None:
        world = self.world
        if conn.session is None or int(d["guild_id"]) not in world.bot_guilds():
            return
        guild = world.guild(int(d["guild_id"]))
        wanted = {int(u) for u in d.get("user_ids") or []}
        query = (d.get("query") or "").lower()
        ids = [
            uid
            for uid in guild.members
            if (not wanted or uid in wanted) and world.users[uid]["username"].lower().startswith(query)
        ]
        if d.get("limit"):
            ids = ids[: d["limit"]]
        chunk: Payload = {
            "guild_id": str(guild.id),
            "members": [world.member_payload(uid, guild_id=guild.id) for uid in ids],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if wanted:
            chunk["not_found"] = [str(u) for u in wanted - set(ids)]
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await conn.dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- used by the fake -------------------------------------------------------------------------
    async def wait_identified(self, timeout: float = 5.0) -> None:
        try:
            await asyncio.wait_for(self._identified.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no bot identified on the fake gateway within {timeout}s") from None

    async def dispatch(self, event: str, data: Payload, *, guild_id: int | None) -> int:
        """Send ``event`` to every identified session that owns ``guild_id`` and has the intents.

        Events are buffered on disconnected sessions, so a RESUME replays them. Returns the number
        of sessions the event was delivered or buffered to.
        """
        delivered = 0
        for session in list(self.sessions.values()):
            if not session.owns_guild(guild_id):
                continue
            filtered = filter_for_intents(event, data, session.intents, self.world.bot_id)
            if filtered is None:
                continue
            delivered += 1
            if session.connection is not None:
                await session.connection.dispatch(session, event, filtered)
            else:
                session.seq += 1
                session.sent.append((session.seq, event, filtered))
        return delivered

    async def send_reconnect(self) -> None:
        """Op 7 RECONNECT on every connection: the client reconnects and RESUMEs."""
        for conn in list(self.connections):
            await conn.send(RECONNECT, None)

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Op 9 INVALID_SESSION on every connection (``False`` forces a fresh IDENTIFY)."""
        for conn in list(self.connections):
            if not resumable and conn.session is not None:
                self.sessions.pop(conn.session.session_id, None)
            await conn.send(INVALID_SESSION, resumable)

    async def close_all(self, code: int = 1001) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.close(code, "fake discord shutting down")
