"""REST plumbing: a tiny router, Discord-shaped errors, request parsing and recording.

Route handlers live in :mod:`.routes` and :mod:`.interactions`; they are plain functions
``async def handler(fake, request, **path_params) -> Reply`` registered with :func:`route`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from .recorder import RecordedFile, RecordedRequest

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = "/api/v10"


@dataclass
class Reply:
    """A handler's answer; ``body=None`` means ``204 No Content``; ``raw`` answers bytes instead."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] | None = None
    raw: bytes | None = None


class ApiError(Exception):
    """An error answered the way Discord does: ``{"message": ..., "code": ...[, "errors": ...]}``."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def form_error(path: list[str | int], code: str, message: str) -> ApiError:
    """``50035 Invalid Form Body`` with Discord's nested ``errors`` object for ``path``."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        errors = {str(key): errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


Handler = Callable[..., Awaitable[Reply]]


@dataclass
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool
    api: bool  # under /api/v10 (False: CDN paths)


ROUTES: list[_Route] = []


def route(method: str, template: str, *, auth: bool = True, api: bool = True) -> Callable[[Handler], Handler]:
    """Register a handler for ``method template`` (``{name}`` segments become keyword arguments).

    ``auth=False`` for webhook/interaction routes, which Discord authorises by token in the path;
    ``api=False`` for paths outside ``/api/v10`` (the fake CDN).
    """
    pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))

    def register(handler: Handler) -> Handler:
        ROUTES.append(_Route(method, template, pattern, handler, auth and api, api))
        return handler

    return register


def match_route(method: str, path: str, api: bool) -> tuple[_Route, dict[str, str]] | None:
    for r in ROUTES:
        if r.method == method and r.api == api and (m := r.pattern.fullmatch(path)):
            return r, m.groupdict()
    return None


async def parse_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """JSON body, or ``payload_json`` + files of a multipart/form-data body."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            data = await part.read(decode=True)
            if part.name == "payload_json":
                payload = json.loads(data)
            else:
                ctype = part.headers.get("Content-Type")
                files.append(RecordedFile(part.name or "", part.filename, ctype, bytes(data)))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


def json_response(reply: Reply) -> web.Response:
    if reply.raw is not None:
        return web.Response(body=reply.raw, status=reply.status, headers=reply.headers)
    if reply.body is None and reply.status < 300:
        return web.Response(status=204, headers=reply.headers)
    # Exactly "application/json": discord.py's json_or_text() compares the header verbatim, so
    # aiohttp's default "application/json; charset=utf-8" would hand the bot a str.
    headers = {"Content-Type": "application/json", **(reply.headers or {})}
    return web.Response(body=json.dumps(reply.body).encode(), status=reply.status, headers=headers)


async def handle(fake: FakeDiscord, request: web.Request) -> web.Response:
    """aiohttp entry point for every HTTP request: record, route, answer."""
    api = request.path.startswith(API_PREFIX + "/")
    path = request.path.removeprefix(API_PREFIX) if api else request.path
    body, files = await parse_body(request)
    found = match_route(request.method, path, api)
    recorded = RecordedRequest(
        method=request.method,
        path=path,
        query=dict(request.query),
        headers=dict(request.headers),
        json=body,
        files=files,
        route=found[0].template if found else None,
        at=fake.loop_time(),
    )
    index = fake.requests_feed.add(recorded, ready=False)
    try:
        if (injected := fake.take_injected_failure(recorded)) is not None:
            reply = injected
        elif found is None:
            reply = Reply({"message": "404: Not Found", "code": 0}, 404)
        elif found[0].auth and request.headers.get("Authorization") != f"Bot {fake.token}":
            reply = Reply({"message": "401: Unauthorized", "code": 0}, 401)
        else:
            reply = await found[0].handler(fake, recorded, **found[1])
    except ApiError as exc:
        reply = Reply(exc.body(), exc.status)
    except Exception as exc:  # a bug in the fake: 400 (discord.py would retry a 500 for ~16 s)
        fake.internal_errors.append(exc)
        reply = Reply({"message": f"fake discord crashed: {exc!r}", "code": 0}, 400)
    recorded.status = 204 if reply.body is None and reply.raw is None and reply.status < 300 else reply.status
    recorded.response = reply.body
    fake.requests_feed.mark_ready(index)
    return json_response(reply)
