"""REST routes: gateway discovery, users, application commands, channels, messages, guilds."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import payloads
from .recorder import RecordedRequest
from .rest import ApiError, Reply, form_error, route, unknown
from .world import THREAD_TYPES, Payload, Perm

if TYPE_CHECKING:
    from .server import FakeDiscord

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


# -- gateway / users / application ------------------------------------------------------------------
@route("GET", "/gateway", auth=False)
async def get_gateway(fake: FakeDiscord, req: RecordedRequest) -> Reply:
    return Reply({"url": fake.gateway_url})


@route("GET", "/gateway/bot")
async def get_gateway_bot(fake: FakeDiscord, req: RecordedRequest) -> Reply:
    limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
    return Reply({"url": fake.gateway_url, "shards": fake.recommended_shards, "session_start_limit": limit})


@route("GET", "/users/@me")
async def get_me(fake: FakeDiscord, req: RecordedRequest) -> Reply:
    return Reply(fake.world.user(fake.world.bot_id) | {"verified": True, "mfa_enabled": False, "email": None})


@route("GET", "/users/{user_id}")
async def get_user(fake: FakeDiscord, req: RecordedRequest, user_id: str) -> Reply:
    if (user := fake.world.users.get(int(user_id))) is None:
        raise unknown("User", 10013)
    return Reply(user)


@route("POST", "/users/@me/channels")
async def open_dm(fake: FakeDiscord, req: RecordedRequest) -> Reply:
    recipient = int(req.json["recipient_id"])
    if recipient not in fake.world.users:
        raise unknown("User", 10013)
    return Reply(fake.world.dm_channel_for(recipient, fake.new_id()))


@route("GET", "/applications/@me")
@route("GET", "/oauth2/applications/@me")
async def get_application(fake: FakeDiscord, req: RecordedRequest) -> Reply:
    return Reply(payloads.application_payload(fake.world))


@route("GET", "/applications/{app_id}/emojis")
async def get_app_emojis(fake: FakeDiscord, req: RecordedRequest, app_id: str) -> Reply:
    return Reply({"items": []})


@route("GET", "/applications/{app_id}/guilds/{guild_id}/commands/permissions")
async def get_command_permissions(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, guild_id: str
) -> Reply:
    return Reply([])


# -- application commands ---------------------------------------------------------------------------
def validate_command(cmd: Payload, path: list[str | int]) -> None:
    """The checks Discord applies to a command definition (names, descriptions, option order)."""
    kind = cmd.get("type", 1)
    name, description = cmd.get("name") or "", cmd.get("description") or ""
    if kind == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
        raise form_error(
            [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"
        )
    if kind != 1 and not 1 <= len(name) <= 32:
        raise form_error([*path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    if kind == 1 and not 1 <= len(description) <= 100:
        raise form_error(
            [*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    options = cmd.get("options") or []
    if len(options) > 25:
        raise form_error([*path, "options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    for i, opt in enumerate(options):
        if opt.get("type") in (1, 2):
            validate_command(opt | {"type": 1}, [*path, "options", i])
            continue
        validate_command(
            {"name": opt.get("name"), "description": opt.get("description")}, [*path, "options", i]
        )
        if opt.get("required") and seen_optional:
            raise form_error(
                [*path, "options", i, "required"],
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        seen_optional = seen_optional or not opt.get("required")
        if len(opt.get("choices") or []) > 25:
            raise form_error(
                [*path, "options", i, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )


def _stored_command(
    fake: FakeDiscord, cmd: Payload, guild_id: int | None, existing: Payload | None
) -> Payload:
    stored: Payload = {
        "type": 1,
        "description": "",
        "options": [],
        "default_member_permissions": None,
        "nsfw": False,
        "contexts": None,
        "integration_types": [0],
        **cmd,
        "id": existing["id"] if existing else str(fake.new_id()),
        "application_id": str(fake.world.application_id),
        "version": str(fake.new_id()),
    }
    if guild_id is not None:
        stored["guild_id"] = str(guild_id)
    return stored


def _command_scope(fake: FakeDiscord, app_id: str, guild_id: str | None) -> dict[int, Payload]:
    if int(app_id) != fake.world.application_id:
        raise ApiError(403, 50001, "Missing Access")
    gid = None if guild_id is None else int(guild_id)
    if gid is not None and gid not in fake.world.bot_guilds():
        raise ApiError(403, 50001, "Missing Access")
    return fake.commands.setdefault(gid, {})


@route("GET", "/applications/{app_id}/commands")
@route("GET", "/applications/{app_id}/guilds/{guild_id}/commands")
async def list_commands(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, guild_id: str | None = None
) -> Reply:
    return Reply(list(_command_scope(fake, app_id, guild_id).values()))


@route("PUT", "/applications/{app_id}/commands")
@route("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
async def bulk_overwrite_commands(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, guild_id: str | None = None
) -> Reply:
    scope = _command_scope(fake, app_id, guild_id)
    by_key = {(c["name"], c["type"]): c for c in scope.values()}
    new: dict[int, Payload] = {}
    keys: set[tuple[str, int]] = set()
    for i, cmd in enumerate(req.json or []):
        validate_command(cmd, [i])
        key = (cmd["name"], cmd.get("type", 1))
        if key in keys:
            raise form_error(
                [i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Duplicate command {key[0]!r}"
            )
        keys.add(key)
        stored = _stored_command(fake, cmd, None if guild_id is None else int(guild_id), by_key.get(key))
        new[int(stored["id"])] = stored
    scope.clear()
    scope.update(new)
    return Reply(list(new.values()))


@route("POST", "/applications/{app_id}/commands")
@route("POST", "/applications/{app_id}/guilds/{guild_id}/commands")
async def upsert_command(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, guild_id: str | None = None
) -> Reply:
    scope = _command_scope(fake, app_id, guild_id)
    validate_command(req.json, [])
    key = (req.json["name"], req.json.get("type", 1))
    existing = next((c for c in scope.values() if (c["name"], c["type"]) == key), None)
    stored = _stored_command(fake, req.json, None if guild_id is None else int(guild_id), existing)
    scope[int(stored["id"])] = stored
    return Reply(stored, 200 if existing else 201)


@route("GET", "/applications/{app_id}/commands/{command_id}")
@route("PATCH", "/applications/{app_id}/commands/{command_id}")
@route("DELETE", "/applications/{app_id}/commands/{command_id}")
@route("GET", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}")
@route("PATCH", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}")
@route("DELETE", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}")
async def one_command(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, command_id: str, guild_id: str | None = None
) -> Reply:
    scope = _command_scope(fake, app_id, guild_id)
    if (cmd := scope.get(int(command_id))) is None:
        raise unknown("application command", 10063)
    if req.method == "DELETE":
        del scope[int(command_id)]
        return Reply()
    if req.method == "PATCH":
        cmd.update(req.json or {})
        validate_command(cmd, [])
    return Reply(cmd)


# -- channels & messages ----------------------------------------------------------------------------
def channel_or_404(fake: FakeDiscord, channel_id: str) -> Payload:
    if (channel := fake.world.channel(int(channel_id))) is None:
        raise unknown("Channel", 10003)
    return channel


def require(fake: FakeDiscord, channel_id: int, *needed: Perm) -> None:
    """403 like Discord when the bot lacks a permission in the channel."""
    perms = fake.world.permissions(fake.world.bot_id, channel_id)
    if not perms & Perm.VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    for perm in needed:
        if not perms & perm:
            raise ApiError(403, 50013, "Missing Permissions")


def send_permission(channel: Payload) -> Perm:
    return Perm.SEND_MESSAGES_IN_THREADS if channel["type"] in THREAD_TYPES else Perm.SEND_MESSAGES


@route("GET", "/channels/{channel_id}")
async def get_channel(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    return Reply(channel_or_404(fake, channel_id))


@route("GET", "/channels/{channel_id}/messages")
async def message_history(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    channel_or_404(fake, channel_id)
    require(fake, int(channel_id), Perm.READ_MESSAGE_HISTORY)
    q = req.query
    limit = min(int(q.get("limit", 50)), 100)
    before = int(q["before"]) if "before" in q else None
    after = int(q["after"]) if "after" in q else None
    return Reply(fake.store.history(int(channel_id), limit=limit, before=before, after=after))


@route("POST", "/channels/{channel_id}/messages")
async def create_message(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    channel = channel_or_404(fake, channel_id)
    needed = [send_permission(channel)]
    if req.files:
        needed.append(Perm.ATTACH_FILES)
    if (req.json or {}).get("message_reference"):
        needed.append(Perm.READ_MESSAGE_HISTORY)
    require(fake, int(channel_id), *needed)
    body = req.json or {}
    if body.get("enforce_nonce") and body.get("nonce") is not None:
        # Discord: a nonce seen from the same author lately returns that message, creating none.
        for sent in fake.store.history(int(channel_id), limit=100):
            if sent.get("nonce") == body["nonce"] and int(sent["author"]["id"]) == fake.world.bot_id:
                return Reply(sent)
    message = fake.store.build(int(channel_id), fake.world.bot_id, body, req.files)
    if not fake.world.permissions(fake.world.bot_id, int(channel_id)) & Perm.EMBED_LINKS:
        message["embeds"] = []  # Discord silently drops embeds without EMBED_LINKS
    await fake.publish_bot_message(message)
    return Reply(message)


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(fake: FakeDiscord, req: RecordedRequest, channel_id: str, message_id: str) -> Reply:
    channel_or_404(fake, channel_id)
    require(fake, int(channel_id), Perm.READ_MESSAGE_HISTORY)
    return Reply(fake.store.get(int(channel_id), int(message_id)))


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(fake: FakeDiscord, req: RecordedRequest, channel_id: str, message_id: str) -> Reply:
    message = fake.store.get(int(channel_id), int(message_id))
    if int(message["author"]["id"]) != fake.world.bot_id and set(req.json or {}) - {"flags"}:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    fake.store.apply_edit(message, req.json or {}, req.files)
    await fake.publish_bot_message(message, event="MESSAGE_UPDATE")
    return Reply(message)


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(fake: FakeDiscord, req: RecordedRequest, channel_id: str, message_id: str) -> Reply:
    message = fake.store.get(int(channel_id), int(message_id))
    if int(message["author"]["id"]) != fake.world.bot_id:
        require(fake, int(channel_id), Perm.MANAGE_MESSAGES)
    await fake.delete_stored_message(message)
    return Reply()


@route("POST", "/channels/{channel_id}/typing")
async def trigger_typing(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    channel = channel_or_404(fake, channel_id)
    require(fake, int(channel_id), send_permission(channel))
    return Reply()


def _emoji(raw: str) -> Payload:
    name, _, emoji_id = raw.partition(":")
    return {"id": emoji_id or None, "name": name}


@route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def own_reaction(
    fake: FakeDiscord, req: RecordedRequest, channel_id: str, message_id: str, emoji: str
) -> Reply:
    message = fake.store.get(int(channel_id), int(message_id))
    require(
        fake,
        int(channel_id),
        Perm.READ_MESSAGE_HISTORY,
        *([Perm.ADD_REACTIONS] if req.method == "PUT" else []),
    )
    parsed = _emoji(emoji)
    reaction = next((r for r in message["reactions"] if r["emoji"] == parsed), None)
    if req.method == "PUT" and not (reaction and reaction["me"]):
        if reaction is None:
            reaction = {
                "emoji": parsed,
                "count": 0,
                "count_details": {"burst": 0, "normal": 0},
                "burst_colors": [],
            }
            message["reactions"].append(reaction)
        reaction.update(count=reaction["count"] + 1, me=True, me_burst=False)
        reaction["count_details"]["normal"] += 1
        await fake.reaction_event("MESSAGE_REACTION_ADD", message, fake.world.bot_id, parsed)
    elif req.method == "DELETE" and reaction and reaction["me"]:
        reaction.update(count=reaction["count"] - 1, me=False)
        reaction["count_details"]["normal"] -= 1
        if reaction["count"] == 0:
            message["reactions"].remove(reaction)
        await fake.reaction_event("MESSAGE_REACTION_REMOVE", message, fake.world.bot_id, parsed)
    return Reply()


async def _start_thread(
    fake: FakeDiscord, parent_id: int, thread_id: int, body: Payload, kind: int
) -> Payload:
    parent = fake.world.channels.get(parent_id)
    if parent is None or parent["type"] not in (0, 5):
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    require(fake, parent_id, Perm.CREATE_PUBLIC_THREADS)
    name = body.get("name") or ""
    if not 1 <= len(name) <= 100:
        raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    extra: dict[str, Any] = {"auto_archive_duration": body.get("auto_archive_duration") or 1440}
    thread = fake.world.add_thread(thread_id, parent_id, name, owner_id=fake.world.bot_id, type=kind, **extra)
    thread["rate_limit_per_user"] = body.get("rate_limit_per_user") or 0
    await fake.dispatch("THREAD_CREATE", thread | {"newly_created": True})
    return thread


@route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def thread_from_message(
    fake: FakeDiscord, req: RecordedRequest, channel_id: str, message_id: str
) -> Reply:
    message = fake.store.get(int(channel_id), int(message_id))
    if int(message_id) in fake.world.threads:
        raise ApiError(400, 160004, "A thread has already been created for this message")
    thread = await _start_thread(fake, int(channel_id), int(message_id), req.json or {}, 11)
    message["thread"] = thread
    message["flags"] |= payloads.FLAG_HAS_THREAD
    return Reply(thread, 201)


@route("POST", "/channels/{channel_id}/threads")
async def thread_without_message(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    body = req.json or {}
    thread = await _start_thread(fake, int(channel_id), fake.new_id(), body, body.get("type") or 12)
    return Reply(thread, 201)


@route("PUT", "/channels/{channel_id}/thread-members/@me")
@route("DELETE", "/channels/{channel_id}/thread-members/@me")
async def join_thread(fake: FakeDiscord, req: RecordedRequest, channel_id: str) -> Reply:
    if int(channel_id) not in fake.world.threads:
        raise unknown("Channel", 10003)
    return Reply()


# -- guilds -----------------------------------------------------------------------------------------
def guild_or_404(fake: FakeDiscord, guild_id: str) -> int:
    """The guild's id, if the bot is in it (else Discord's Unknown Guild)."""
    if int(guild_id) not in fake.world.bot_guilds():
        raise unknown("Guild", 10004)
    return int(guild_id)


@route("GET", "/guilds/{guild_id}")
async def get_guild(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    gid = guild_or_404(fake, guild_id)
    guild = payloads.guild_payload(fake.world, gid)
    if req.query.get("with_counts") in ("true", "1"):
        count = len(fake.world.guild(gid).members)
        guild |= {"approximate_member_count": count, "approximate_presence_count": 0}
    return Reply(guild)


@route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    return Reply(fake.world.guild_channels(guild_or_404(fake, guild_id)))


@route("GET", "/guilds/{guild_id}/roles")
async def get_roles(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    return Reply(fake.world.role_list(guild_or_404(fake, guild_id)))


@route("GET", "/guilds/{guild_id}/threads/active")
async def active_threads(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    threads = fake.world.guild_threads(guild_or_404(fake, guild_id))
    return Reply({"threads": threads, "members": []})


@route("GET", "/guilds/{guild_id}/members")
async def list_members(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    gid = guild_or_404(fake, guild_id)
    after = int(req.query.get("after", 0))
    limit = int(req.query.get("limit", 1))
    ids = sorted(uid for uid in fake.world.guild(gid).members if uid > after)[:limit]
    return Reply([fake.world.member_payload(uid, guild_id=gid) for uid in ids])


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(fake: FakeDiscord, req: RecordedRequest, guild_id: str, user_id: str) -> Reply:
    gid = guild_or_404(fake, guild_id)
    if int(user_id) not in fake.world.guild(gid).members:
        raise unknown("Member", 10007)
    return Reply(fake.world.member_payload(int(user_id), guild_id=gid))


@route("DELETE", "/users/@me/guilds/{guild_id}")
async def leave_guild(fake: FakeDiscord, req: RecordedRequest, guild_id: str) -> Reply:
    await fake.remove_bot_from_guild(guild_or_404(fake, guild_id))
    return Reply()


# -- CDN --------------------------------------------------------------------------------------------
@route("GET", "/cdn/attachments/{channel_id}/{attachment_id}/{filename}", api=False)
async def cdn_attachment(
    fake: FakeDiscord, req: RecordedRequest, channel_id: str, attachment_id: str, filename: str
) -> Reply:
    if (data := fake.store.blobs.get(int(attachment_id))) is None:
        return Reply({"message": "404: Not Found", "code": 0}, 404)
    return Reply(raw=data)
