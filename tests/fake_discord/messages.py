"""Message storage (everything dispatched to or created by the bot) and Discord's message limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import payloads
from .ids import iso
from .recorder import RecordedFile
from .rest import ApiError, form_error, unknown
from .world import Payload, World

MAX_CONTENT, MAX_EMBEDS, MAX_EMBED_TOTAL = 2000, 10, 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_LIMITS = {"name": 256, "value": 1024}
SETTABLE_FLAGS = (1 << 2) | payloads.FLAG_EPHEMERAL | (1 << 12) | (1 << 15)  # suppress embeds/notifs, v2


def _too_long(path: list[str | int], limit: int) -> ApiError:
    return form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def validate_embeds(embeds: list[Payload], prefix: list[str | int]) -> None:
    if len(embeds) > MAX_EMBEDS:
        raise form_error(prefix, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                raise _too_long([*prefix, i, key], limit)
        for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
            value = (embed.get(key) or {}).get(sub) or ""
            total += len(value)
            if len(value) > limit:
                raise _too_long([*prefix, i, key, sub], limit)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _too_long([*prefix, i, "fields"], 25)
        for j, fld in enumerate(fields):
            for key, limit in FIELD_LIMITS.items():
                value = fld.get(key)
                if not value:
                    raise form_error(
                        [*prefix, i, "fields", j, key], "BASE_TYPE_REQUIRED", "This field is required"
                    )
                total += len(value)
                if len(value) > limit:
                    raise _too_long([*prefix, i, "fields", j, key], limit)
    if total > MAX_EMBED_TOTAL:
        raise form_error(prefix, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def validate_components(components: list[Payload], v2: bool) -> None:
    if v2:
        return  # components v2 layouts are not validated by the fake
    if len(components) > 5:
        raise _too_long(["components"], 5)
    seen: set[str] = set()
    for i, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(children) <= 5:
            raise form_error(["components", i], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Invalid action row")
        for j, child in enumerate(children):
            custom_id = child.get("custom_id")
            if custom_id is not None:
                if len(custom_id) > 100:
                    raise _too_long(["components", i, "components", j, "custom_id"], 100)
                if custom_id in seen:
                    raise form_error(
                        ["components", i, "components", j, "custom_id"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            if len(child.get("label") or "") > 80:
                raise _too_long(["components", i, "components", j, "label"], 80)


def validate_message_body(body: Payload, files: list[RecordedFile], *, partial: bool = False) -> None:
    """Discord's limits for a create (or, with ``partial``, an edit) message body."""
    content = body.get("content") or ""
    if len(content) > MAX_CONTENT:
        raise _too_long(["content"], MAX_CONTENT)
    validate_embeds(body.get("embeds") or [], ["embeds"])
    validate_components(body.get("components") or [], bool((body.get("flags") or 0) & (1 << 15)))
    has_something = (
        content or body.get("embeds") or files or body.get("components") or body.get("sticker_ids")
    )
    if not partial and not has_something and not body.get("poll"):
        raise ApiError(400, 50006, "Cannot send an empty message")


class MessageStore:
    """All messages the fake knows: injected by tests or created/edited by the bot."""

    def __init__(self, world: World, new_id: Callable[[], int]) -> None:
        self.world = world
        self.new_id = new_id
        self.by_id: dict[int, Payload] = {}
        self.blobs: dict[int, bytes] = {}  # attachment id -> content, served by the fake CDN
        self.cdn_url = "https://cdn.discordapp.com"  # replaced by the server's own URL on start

    def attach(self, channel_id: int, filename: str, data: bytes, content_type: str | None = None) -> Payload:
        """Store an uploaded file; returns its attachment object (URL served by the fake CDN)."""
        attachment_id = self.new_id()
        self.blobs[attachment_id] = data
        url = f"{self.cdn_url}/attachments/{channel_id}/{attachment_id}/{filename}"
        return payloads.attachment_payload(
            attachment_id, filename, len(data), url=url, content_type=content_type
        )

    def add(self, message: Payload) -> Payload:
        self.by_id[int(message["id"])] = message
        channel = self.world.channel(int(message["channel_id"]))
        if channel is not None and "last_message_id" in channel:
            channel["last_message_id"] = message["id"]
        return message

    def get(self, channel_id: int, message_id: int) -> Payload:
        message = self.by_id.get(message_id)
        if message is None or int(message["channel_id"]) != channel_id:
            raise unknown("Message", 10008)
        return message

    def history(
        self, channel_id: int, *, limit: int = 50, before: int | None = None, after: int | None = None
    ) -> list[Payload]:
        """``GET /channels/{id}/messages``: newest first, like Discord (``around`` unsupported)."""
        found = sorted(
            (m for m in self.by_id.values() if int(m["channel_id"]) == channel_id and not m["flags"] & 64),
            key=lambda m: int(m["id"]),
        )
        if before is not None:
            found = [m for m in found if int(m["id"]) < before][-limit:]
        elif after is not None:
            found = [m for m in found if int(m["id"]) > after][:limit]
        else:
            found = found[-limit:]
        return found[::-1]

    def _attachments(
        self, channel_id: int, body: Payload, files: list[RecordedFile], existing: list[Payload]
    ) -> list[Payload]:
        """Kept attachments (those listed in ``body["attachments"]``, if given) plus uploaded files."""
        meta = {str(a.get("id")): a for a in body.get("attachments") or []}
        result = [a for a in existing if a["id"] in meta] if "attachments" in body else list(existing)
        for index, f in enumerate(files):
            name = (meta.get(str(index)) or {}).get("filename") or f.filename or f"file{index}"
            result.append(self.attach(channel_id, name, f.data, f.content_type))
        return result

    def build(
        self,
        channel_id: int,
        author_id: int,
        body: Payload,
        files: list[RecordedFile],
        **extra: Any,
    ) -> Payload:
        """A new message from a REST create body (validated; reply target resolved)."""
        validate_message_body(body, files)
        referenced = None
        if (ref := body.get("message_reference")) and ref.get("message_id"):
            target = self.by_id.get(int(ref["message_id"]))
            if target is None and ref.get("fail_if_not_exists", True):
                raise form_error(
                    ["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            referenced = target
        return payloads.message_payload(
            self.world,
            message_id=self.new_id(),
            channel_id=channel_id,
            author_id=author_id,
            content=body.get("content") or "",
            referenced=referenced,
            embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
            components=body.get("components") or [],
            attachments=self._attachments(channel_id, body, files, []),
            flags=(body.get("flags") or 0) & SETTABLE_FLAGS,
            tts=bool(body.get("tts")),
            **({"nonce": body["nonce"]} if body.get("nonce") is not None else {}),
            **extra,
        )

    def apply_edit(self, message: Payload, body: Payload, files: list[RecordedFile]) -> Payload:
        """Apply a PATCH body to a stored message in place; returns it."""
        validate_message_body(body, files, partial=True)
        if "content" in body:
            message["content"] = body["content"] or ""
            rebuilt = payloads.message_payload(
                self.world,
                message_id=int(message["id"]),
                channel_id=int(message["channel_id"]),
                author_id=int(message["author"]["id"]),
                content=message["content"],
            )
            message["mentions"], message["mention_roles"] = rebuilt["mentions"], rebuilt["mention_roles"]
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = body["components"] or []
        if "flags" in body and body["flags"] is not None:
            editable = SETTABLE_FLAGS & ~payloads.FLAG_EPHEMERAL  # ephemerality cannot change
            message["flags"] = (message["flags"] & ~editable) | (body["flags"] & editable)
        if "attachments" in body or files:
            channel_id = int(message["channel_id"])
            message["attachments"] = self._attachments(channel_id, body, files, message["attachments"])
        message["edited_timestamp"] = iso()
        return message
