"""Interaction callbacks (``/interactions/{id}/{token}/callback``) and the interaction webhook.

Behaviour mirrors Discord's:

* the first callback must arrive within ``fake.ack_deadline`` seconds (3 s), otherwise
  ``404 Unknown interaction`` (10062); a second callback is ``400`` (40060);
* callback types allowed per interaction type (autocomplete only takes 8, etc.);
* after a type-5 defer, the *first* followup replaces the "thinking" message (keeping the
  defer's ephemerality) instead of creating a new message;
* ``@original`` of a component interaction answered with 6/7 is the message with the component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import payloads
from .payloads import FLAG_EPHEMERAL, FLAG_LOADING
from .recorder import InteractionRecord, RecordedRequest
from .rest import ApiError, Reply, form_error, route, unknown
from .world import Payload

if TYPE_CHECKING:
    from .server import FakeDiscord

ALLOWED_CALLBACKS = {
    payloads.APPLICATION_COMMAND: {4, 5, 9},
    payloads.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    payloads.AUTOCOMPLETE: {8},
    payloads.MODAL_SUBMIT: {4, 5, 6, 7},
}


def _message_type(rec: InteractionRecord) -> int:
    if rec.type == payloads.APPLICATION_COMMAND:
        return (
            payloads.MSG_CHAT_INPUT if rec.payload["data"].get("type", 1) == 1 else payloads.MSG_CONTEXT_MENU
        )
    return payloads.MSG_DEFAULT


def _interaction_fields(fake: FakeDiscord, rec: InteractionRecord) -> Payload:
    """Fields Discord puts on messages created through an interaction."""
    user = rec.payload.get("member", {}).get("user") or rec.payload["user"]
    metadata = {
        "id": str(rec.id),
        "type": rec.type,
        "user": user,
        "authorizing_integration_owners": rec.payload["authorizing_integration_owners"],
    }
    if rec.type == payloads.APPLICATION_COMMAND:
        metadata["name"] = rec.payload["data"]["name"]
    app_id = str(fake.world.application_id)
    return {"webhook_id": app_id, "application_id": app_id, "interaction_metadata": metadata}


def _interaction_message(
    fake: FakeDiscord, rec: InteractionRecord, body: Payload, req: RecordedRequest
) -> Payload:
    """A message created through an interaction (response or followup), authored by the bot."""
    channel_id = int(rec.payload["channel_id"])
    extra = _interaction_fields(fake, rec)
    return fake.store.build(channel_id, fake.world.bot_id, body, req.files, type=_message_type(rec), **extra)


@route("POST", "/interactions/{interaction_id}/{token}/callback", auth=False)
async def interaction_callback(
    fake: FakeDiscord, req: RecordedRequest, interaction_id: str, token: str
) -> Reply:
    rec = fake.interactions.get(int(interaction_id))
    if rec is None or rec.token != token:
        raise unknown("interaction", 10062)
    now = fake.loop_time()
    if rec.first_callback_at is None:
        rec.first_callback_at = now
    if rec.callbacks:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if fake.ack_deadline is not None and now - rec.dispatched_at > fake.ack_deadline:
        raise unknown("interaction", 10062)
    body = req.json or {}
    kind = body.get("type")
    if kind not in ALLOWED_CALLBACKS.get(rec.type, set()):
        raise form_error(["type"], "INTERACTION_CALLBACK_TYPE_INVALID", f"Callback type {kind} invalid here")
    data = body.get("data") or {}
    message: Payload | None = None
    if kind == 4:
        message = _interaction_message(fake, rec, data, req)
        await fake.publish_bot_message(message)
    elif kind == 5:
        message = payloads.message_payload(
            fake.world,
            message_id=fake.new_id(),
            channel_id=int(rec.payload["channel_id"]),
            author_id=fake.world.bot_id,
            flags=((data.get("flags") or 0) & FLAG_EPHEMERAL) | FLAG_LOADING,
            type=_message_type(rec),
            **_interaction_fields(fake, rec),
        )
        rec.loading = True
        await fake.publish_bot_message(message, visible=False)
    elif kind == 8:
        choices = data.get("choices") or []
        if len(choices) > 25:
            raise form_error(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for i, choice in enumerate(choices):
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                raise form_error(
                    ["data", "choices", i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long."
                )
    elif kind in (6, 7) and "message" in rec.payload:
        message = fake.store.get(int(rec.payload["channel_id"]), int(rec.payload["message"]["id"]))
        if kind == 7:
            fake.store.apply_edit(message, data, req.files)
            await fake.publish_bot_message(message, event="MESSAGE_UPDATE")
    rec.callbacks.append(body)
    rec.acknowledged.set()
    if message is not None:
        rec.original_message_id = int(message["id"])
    if req.query.get("with_response") not in ("1", "true", "True"):
        return Reply()
    info: Payload = {"id": str(rec.id), "type": rec.type}
    if message is not None and kind in (4, 5, 7):
        info |= {
            "response_message_id": message["id"],
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message["flags"] & FLAG_EPHEMERAL),
        }
        return Reply({"interaction": info, "resource": {"type": kind, "message": message}})
    return Reply({"interaction": info})


def _record_for(fake: FakeDiscord, app_id: str, token: str) -> InteractionRecord:
    rec = fake.interactions_by_token.get(token)
    if rec is None or int(app_id) != fake.world.application_id:
        raise ApiError(401, 50027, "Invalid Webhook Token")
    if not rec.callbacks:
        raise unknown("Webhook", 10015)  # followups/edits need an acknowledged interaction
    return rec


def _webhook_message(fake: FakeDiscord, rec: InteractionRecord, message_id: str) -> Payload:
    if message_id == "@original":
        if rec.original_message_id is None:
            raise unknown("Message", 10008)
        mid = rec.original_message_id
    else:
        mid = int(message_id)
        if mid not in rec.followup_ids and mid != rec.original_message_id:
            raise unknown("Message", 10008)
    if (message := fake.store.by_id.get(mid)) is None:
        raise unknown("Message", 10008)
    return message


async def _finish_loading(fake: FakeDiscord, rec: InteractionRecord, message: Payload) -> None:
    """The deferred "thinking" message got its content: it becomes a visible bot message."""
    message["flags"] &= ~FLAG_LOADING
    message["edited_timestamp"] = None
    rec.loading = False
    await fake.publish_bot_message(message, event="MESSAGE_UPDATE")


@route("POST", "/webhooks/{app_id}/{token}", auth=False)
async def execute_followup(fake: FakeDiscord, req: RecordedRequest, app_id: str, token: str) -> Reply:
    rec = _record_for(fake, app_id, token)
    body = req.json or {}
    original = fake.store.by_id.get(rec.original_message_id or 0)
    if rec.loading and original is not None:
        # First followup after a defer: it *is* the deferred response (ephemeral or not per the defer).
        fake.store.apply_edit(original, {**body, "flags": original["flags"]}, req.files)
        await _finish_loading(fake, rec, original)
        message = original
    else:
        message = _interaction_message(fake, rec, body, req)
        message["type"] = payloads.MSG_DEFAULT
        rec.followup_ids.append(int(message["id"]))
        await fake.publish_bot_message(message)
    return Reply(message if req.query.get("wait") in ("1", "true", "True") else None)


@route("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", auth=False)
@route("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", auth=False)
@route("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", auth=False)
async def webhook_message(
    fake: FakeDiscord, req: RecordedRequest, app_id: str, token: str, message_id: str
) -> Reply:
    rec = _record_for(fake, app_id, token)
    message = _webhook_message(fake, rec, message_id)
    if req.method == "GET":
        return Reply(message)
    if req.method == "DELETE":
        await fake.delete_stored_message(message)
        return Reply()
    fake.store.apply_edit(message, req.json or {}, req.files)
    if message["flags"] & FLAG_LOADING:
        await _finish_loading(fake, rec, message)
    else:
        await fake.publish_bot_message(message, event="MESSAGE_UPDATE")
    return Reply(message)
