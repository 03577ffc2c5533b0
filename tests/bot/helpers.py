"""Assertions over what the bot sent to the fake Discord."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot import render
from tests.fake_discord import FakeDiscord, RecordedRequest

EPHEMERAL = 1 << 6


def message_bodies(fake: FakeDiscord) -> Iterator[tuple[RecordedRequest, dict[str, Any]]]:
    """Every message body the bot sent or edited: channel messages, webhooks, interaction callbacks."""
    for req in fake.requests:
        body = req.json
        if req.path.endswith("/callback") and isinstance(body, dict):
            body = body.get("data")
        if isinstance(body, dict) and ("content" in body or "embeds" in body):
            yield req, body


def assert_no_pings(fake: FakeDiscord) -> int:
    """Every message body disables all mentions; returns how many were checked."""
    checked = 0
    for req, body in message_bodies(fake):
        allowed = body.get("allowed_mentions")
        assert allowed is not None and allowed.get("parse") == [], f"{req}: {allowed}"
        assert not allowed.get("users") and not allowed.get("roles") and not allowed.get("replied_user")
        checked += 1
    return checked


def assert_within_limits(body: dict[str, Any]) -> None:
    assert len(body.get("content") or "") <= render.CONTENT_LIMIT
    embeds = body.get("embeds") or []
    assert len(embeds) <= render.EMBEDS_PER_MESSAGE
    total = 0
    for e in embeds:
        fields = e.get("fields", [])
        assert len(e.get("title") or "") <= render.TITLE_LIMIT
        assert len(e.get("description") or "") <= render.DESCRIPTION_LIMIT
        assert len(fields) <= render.FIELDS_PER_EMBED
        assert all(len(f["name"]) <= render.FIELD_NAME_LIMIT for f in fields)
        assert all(len(f["value"]) <= render.FIELD_VALUE_LIMIT for f in fields)
        footer = (e.get("footer") or {}).get("text") or ""
        assert len(footer) <= render.FOOTER_LIMIT
        total += len(e.get("title") or "") + len(e.get("description") or "") + len(footer)
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= render.EMBED_TOTAL_LIMIT


def descriptions(message: dict[str, Any]) -> str:
    return "".join(e.get("description") or "" for e in message.get("embeds", []))


def field_values(message: dict[str, Any]) -> list[str]:
    return [f["value"] for e in message.get("embeds", []) for f in e.get("fields", [])]
