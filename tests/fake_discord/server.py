"""``FakeDiscord``: the in-process fake (aiohttp on 127.0.0.1, ephemeral port) and its test API."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import interactions as _interactions  # noqa: F401  (registers routes)
from . import rest, runner
from . import routes as _routes  # noqa: F401  (registers routes)
from .gateway import GatewayHub
from .ids import SnowflakeFactory
from .inject import EventInjection
from .messages import MessageStore
from .patching import patch_discord
from .recorder import Feed, InteractionRecord, RecordedRequest, request_matcher
from .world import Payload, World

if TYPE_CHECKING:
    import discord

PathPattern = str | re.Pattern[str]


@dataclass
class _Failure:
    match: Callable[[RecordedRequest], bool]
    reply: rest.Reply
    times: int


class FakeDiscord(EventInjection):
    """A fake Discord (REST + gateway) for end-to-end tests of a real discord.py bot.

    ``async with FakeDiscord() as fake:`` starts the server and patches discord.py's URLs;
    ``async with fake.run_bot(bot):`` runs the bot until it is ready and closes it afterwards.
    """

    def __init__(
        self,
        *,
        world: World | None = None,
        token: str = "fake-bot-token",
        ack_deadline: float | None = 3.0,
        echo_bot_messages: bool = True,
        recommended_shards: int = 1,
    ) -> None:
        self.world = world or World()
        self.hub = GatewayHub(self.world, token)
        #: Seconds an interaction may wait for its first callback (``None``: no limit).
        self.ack_deadline = ack_deadline
        #: Dispatch MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages, like Discord does.
        self.echo_bot_messages = echo_bot_messages
        #: ``shards`` answered by ``GET /gateway/bot``.
        self.recommended_shards = recommended_shards
        self.new_id = SnowflakeFactory()
        self.store = MessageStore(self.world, self.new_id)
        #: Registered application commands: ``{guild_id or None: {command_id: command}}``.
        self.commands: dict[int | None, dict[int, Payload]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.requests_feed: Feed[RecordedRequest] = Feed()
        self.bot_messages_feed: Feed[Payload] = Feed(_describe_message)
        #: Exceptions raised inside the fake's own handlers (bugs in the fake), re-raised by run_bot.
        self.internal_errors: list[BaseException] = []
        #: Host names the bot tried to resolve (i.e. reach outside the fake) under ``run_bot``.
        self.blocked_hosts: list[str] = []
        self._failures: list[_Failure] = []
        self._runner: web.AppRunner | None = None
        #: The bot inside ``run_bot`` (used to wait until a clicked view is registered).
        self.bot: discord.Client | None = None
        self._patch: contextlib.ExitStack | None = None
        self.base_url = self.api_url = self.gateway_url = self.cdn_url = ""

    @property
    def token(self) -> str:
        """The bot token the fake accepts (REST ``Authorization: Bot <token>`` and IDENTIFY)."""
        return self.hub.token

    @token.setter
    def token(self, value: str) -> None:
        self.hub.token = value

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on 127.0.0.1 with an ephemeral port (no patching; see ``__aenter__``)."""
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_get("/gateway/ws", self.hub.handle)
        app.router.add_get("/gateway/resume", self.hub.handle)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_url = self.base_url + rest.API_PREFIX
        self.cdn_url = self.base_url + "/cdn"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway/ws"
        self.hub.resume_url = f"ws://127.0.0.1:{port}/gateway/resume"
        self.store.cdn_url = self.cdn_url

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        return await rest.handle(self, request)

    async def stop(self) -> None:
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self._patch = contextlib.ExitStack()
        try:
            self._patch.enter_context(patch_discord(self.api_url, self.gateway_url, self.cdn_url))
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._patch is not None:
            self._patch.close()
        await self.stop()

    def run_bot(
        self,
        bot: discord.Client,
        *,
        ready_timeout: float = 5.0,
        fast_ready: bool = True,
        raise_errors: bool = True,
    ) -> contextlib.AbstractAsyncContextManager[discord.Client]:
        """``async with fake.run_bot(bot):`` start ``bot``, wait until it is ready, close it on exit.

        * ``fast_ready`` lowers discord.py's ``guild_ready_timeout`` (it waits 2 s after the last
          GUILD_CREATE before on_ready) to 0.05 s.
        * Unless the bot brought its own ``http.connector``, it gets one whose resolver refuses
          every host name: only the fake (an IP literal) is reachable (see ``blocked_hosts``).
        * With ``raise_errors`` the block fails afterwards if discord.py logged an error (an
          exception in an event handler, command, view...), the fake crashed, or a host was
          blocked.
        * Views still listening are stopped after ``bot.close()`` so no timeout task leaks.

        ``on_ready`` listeners are scheduled when the block starts, not necessarily finished.
        """
        return runner.run_bot(
            self, bot, ready_timeout=ready_timeout, fast_ready=fast_ready, raise_errors=raise_errors
        )

    # -- inspecting what the bot did --------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request received, in order (including unknown routes)."""
        return self.requests_feed.items

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to routes the fake does not implement (answered 404)."""
        return [r for r in self.requests if r.route is None]

    def find_requests(
        self,
        method: str | None,
        path: PathPattern,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> list[RecordedRequest]:
        """All recorded requests matching ``method`` and the ``path`` regex (full match)."""
        match = request_matcher(method, path, predicate)
        return [r for r in self.requests if match(r)]

    async def wait_for_request(
        self,
        method: str | None,
        path: PathPattern,
        *,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 5.0,
        claim: bool = True,
    ) -> RecordedRequest:
        """The oldest answered request matching ``method``/``path`` not returned before.

        ``path`` is a regex matched against the whole path without ``/api/v10``, e.g.
        ``rf"/channels/{cid}/messages"`` or ``r"/interactions/\\d+/[^/]+/callback"``. Each
        request is returned once (``claim=False`` peeks). Raises AssertionError on timeout,
        listing what was seen.
        """
        match = request_matcher(method, path, predicate)
        return await self.requests_feed.wait(match, timeout=timeout, claim=claim, what=f"{method} {path}")

    async def wait_for_bot_message(
        self,
        channel_id: int | None = None,
        *,
        predicate: Callable[[Payload], bool] | None = None,
        timeout: float = 5.0,
        claim: bool = True,
    ) -> Payload:
        """The next visible bot message (optionally in ``channel_id``), whatever API produced it.

        Returns the stored message dict, which reflects later edits.
        """

        def match(m: Payload) -> bool:
            in_channel = channel_id is None or int(m["channel_id"]) == channel_id
            return in_channel and (predicate is None or predicate(m))

        what = f"a bot message in {channel_id or 'any channel'}"
        return await self.bot_messages_feed.wait(match, timeout=timeout, claim=claim, what=what)

    def registered_commands(self, guild_id: int | None = None) -> list[Payload]:
        """Commands the bot registered globally (``None``) or for ``guild_id``."""
        return list(self.commands.get(guild_id, {}).values())

    @property
    def identify(self) -> Payload:
        """The ``d`` of the last IDENTIFY (``intents``, ``shard``, ``properties`` ...)."""
        if not self.hub.identifies:
            raise AssertionError("the bot has not identified yet")
        return self.hub.identifies[-1]

    def fail_next(
        self,
        method: str | None,
        path: PathPattern,
        *,
        status: int = 500,
        body: Any = None,
        times: int = 1,
        retry_after: float = 0.01,
    ) -> None:
        """Answer the next ``times`` matching requests with an error instead of handling them.

        ``status=429`` adds the headers discord.py needs to treat it as a real rate limit (it then
        retries after ``retry_after``). discord.py also retries 500/502/504 itself (sleeping 1 s,
        3 s, ...), so prefer 4xx codes or ``times=1`` for server errors.
        """
        headers = None
        if status == 429:
            body = body or {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            }
            headers = {
                "Via": "1.1 google",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Reset-After": str(retry_after),
                "X-RateLimit-Bucket": "fake",
            }
        body = body if body is not None else {"message": f"{status}: injected failure", "code": 0}
        match = request_matcher(method, path, None)
        self._failures.append(_Failure(match, rest.Reply(body, status, headers), times))

    def take_injected_failure(self, req: RecordedRequest) -> rest.Reply | None:
        for failure in self._failures:
            if failure.match(req):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure.reply
        return None


def _describe_message(message: Payload) -> str:
    content = message["content"] if len(message["content"]) < 80 else message["content"][:77] + "..."
    return f"#{message['channel_id']} {message['id']}: {content!r} ({len(message['embeds'])} embeds)"
