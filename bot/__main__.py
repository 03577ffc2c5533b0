"""`python -m bot`: build the settings, the engine and the bot; run until stopped; close them on exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import discord
from pydantic import ValidationError

from index.config import Settings, settings_problem
from index.engine import Engine
from index.runtime import tune_process
from index.storage.store import StoreUnusable

from .client import NewsBot, intents_for
from .settings import BotSettings

log = logging.getLogger("bot")

NO_TOKEN = """newsbot: no Discord token.

Set DISCORD_TOKEN in the environment or in .env (see .env.example). To get one:
  1. open https://discord.com/developers/applications and create an application (New Application);
  2. on its Bot page, press "Reset Token" and copy the token;
  3. put it in .env as DISCORD_TOKEN=... and run `python -m bot` (or `newsbot run`) again.
docs/discord.md explains the intents to enable and how to invite the bot to a server."""


async def run_bot(settings: Settings, bot_settings: BotSettings, engine: Engine) -> None:
    """Run the bot until it is closed; retry without the message content intent if Discord refuses it."""
    token = bot_settings.token()
    assert token is not None
    if bot_settings.discord_api_base:
        discord.http.Route.BASE = bot_settings.discord_api_base.rstrip("/")
    intents = intents_for(bot_settings)
    while True:
        async with NewsBot(
            engine=engine, settings=bot_settings, data_dir=settings.data_dir, intents=intents
        ) as bot:
            _close_on_signals(bot)
            try:
                await bot.start(token)
                return
            except discord.PrivilegedIntentsRequired:
                if not intents.message_content:
                    raise
                log.warning(
                    "the message content intent is not enabled for this bot: answering mentions, replies "
                    "and slash commands only (enable it in the developer portal for answer channels)"
                )
                intents.message_content = False


def _close_on_signals(bot: NewsBot) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not on every platform, nor outside the main thread.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))


def main(data_dir: Path | None = None, **bot_options: object) -> int:
    """Run the bot; `bot_options` override the environment's bot settings (`newsbot run --shards`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord").setLevel(logging.WARNING)
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot never joins voice
    try:
        bot_settings = BotSettings(**bot_options)
    except ValidationError as error:
        print(settings_problem(error), file=sys.stderr)
        return 2
    if not bot_settings.token():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    try:
        settings = Settings(data_dir=data_dir) if data_dir else Settings()
    except ValidationError as error:
        print(settings_problem(error), file=sys.stderr)
        return 2
    tune_process()
    try:
        engine = Engine(settings)
    except StoreUnusable as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as closing:
        closing.callback(engine.close)
        try:
            closing.enter_context(engine.metrics_endpoint())
        except OSError as error:
            print(
                f"newsbot: cannot serve metrics on {settings.metrics_address} ({error.strerror})",
                file=sys.stderr,
            )
            return 2
        try:
            asyncio.run(run_bot(settings, bot_settings, engine))
        except discord.LoginFailure:
            print(
                "newsbot: Discord refused the token: check DISCORD_TOKEN (Bot → Reset Token).",
                file=sys.stderr,
            )
            return 1
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
