"""The bot: an AutoShardedBot that owns nothing it did not receive (engine and settings are passed in)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from index.engine import Engine
from index.scopes import OPERATOR, guild_scope

from . import engine_calls
from .alerts import AlertPoster
from .choices import CachedBy
from .errors import NotAdmin, NotOperator
from .limits import QuestionLimiter, Turns
from .live import LiveNews
from .settings import BotSettings
from .views import AnswerMemory, AnswerView, VoteOrder

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTENSIONS = (
    "bot.cogs.errors",
    "bot.cogs.ask",
    "bot.cogs.summary",
    "bot.cogs.browse",
    "bot.cogs.admin",
    "bot.cogs.feeds",
    "bot.cogs.digests",
    "bot.cogs.alerts",
)
SYNC_STATE_FILE = "discord_commands.json"


def intents_for(settings: BotSettings) -> discord.Intents:
    """Only what the bot uses: guilds (channels, threads), messages in guilds and DMs; content if asked."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.message_content
    return intents


class NewsBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        engine: Engine,
        settings: BotSettings,
        data_dir: Path,
        extensions: tuple[str, ...] = EXTENSIONS,
        intents: discord.Intents | None = None,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: the bot only has application commands
            help_command=None,
            intents=intents or intents_for(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            shard_ids=settings.shards,  # (None: every shard, in this process)
            max_messages=200,
        )
        self.engine = engine
        self.settings = settings
        self.data_dir = data_dir
        self.initial_extensions = extensions
        self.limiter = QuestionLimiter(
            rate=settings.question_rate,
            window=settings.question_window,
            max_concurrent=settings.max_concurrent_questions,
            on_refused=engine.metrics.refused,
            turns=self._shared_turns("questions"),
        )
        # Votes are cheap writes with a bucket of their own: voting never costs a member a question.
        self.vote_limiter = QuestionLimiter(
            rate=settings.vote_rate,
            window=settings.question_window,
            max_concurrent=settings.max_concurrent_questions,
            turns=self._shared_turns("votes"),
        )
        self.answers = AnswerMemory(engine)
        self.votes = VoteOrder()
        # Ingests and reindexes run here, never in asyncio's default pool that answering uses: a slow
        # fetch or a long reindex cannot take the threads questions need.
        self.admin_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsbot-admin")
        # Per viewer (index/scopes.py): a server's suggestions never name another server's news.
        self.titles = CachedBy(lambda viewer: engine_calls.article_titles(engine, viewer))
        self.outlet_names = CachedBy(
            lambda viewer: [o["source"] for o in engine_calls.outlets(engine, viewer=viewer)[0]]
        )
        self.removable = CachedBy(lambda scope: engine_calls.removable_titles(engine, scope))
        # Feeds polled in a thread of their own (their clock is the tests' to move), stories posted.
        self.live = LiveNews(self, now=clock)
        self.alerts = AlertPoster(self, now=clock)  # topic alerts: started and closed with the live news

    def _shared_turns(self, bucket: str) -> Turns | None:
        """Members' turns counted in the store, with every process sharing it (NEWSBOT_SHARED_LIMITS)."""
        if not self.settings.shared_limits:
            return None
        return functools.partial(engine_calls.member_turn, self.engine, bucket)

    def invalidate_choices(self) -> None:
        """After a write: titles, outlets and removable articles are read again (any thread may call)."""
        for cache in (self.titles, self.outlet_names, self.removable):
            cache.invalidate()

    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        self.add_view(AnswerView())
        await self.sync_commands(force=self.settings.sync_commands)
        await self.live.start()
        # Load the model and the indexes now, in a thread, rather than on the first question.
        self._warm_up = asyncio.create_task(asyncio.to_thread(self.engine.warm_up), name="warm-up")
        self._warm_up.add_done_callback(_log_failure)

    async def run_admin(self, func: Callable[..., T], /, *args: object, **kwargs: object) -> T:
        """Run a slow engine write (ingest, reindex, remove) in the admin pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.admin_pool, functools.partial(func, *args, **kwargs))

    async def close(self) -> None:
        await self.live.close()
        await super().close()
        # A write in progress finishes before the entry point closes the engine under it.
        await asyncio.to_thread(self.admin_pool.shutdown, wait=True, cancel_futures=True)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: questions in messages are handled by the ask cog's listener."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    # -- command sync ------------------------------------------------------------------------------

    def _scope(self) -> tuple[str, discord.Object | None]:
        guild_id = self.settings.dev_guild_id
        if guild_id is None:
            return "global", None
        return f"guild:{guild_id}", discord.Object(id=guild_id)

    def command_payloads(self, guild: discord.abc.Snowflake | None = None) -> list[dict]:
        commands_ = self.tree.get_commands(guild=guild)
        return sorted((c.to_dict(self.tree) for c in commands_), key=lambda c: (c["name"], c.get("type", 1)))

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync application commands if they changed since the last sync (or when forced); True if synced.

        Discord limits command creations per day, so a hash of the payloads is kept in the data folder.
        A development guild gets the commands as guild commands, which update instantly.
        """
        scope, guild = self._scope()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = payload_hash(self.command_payloads(guild))
        state = read_sync_state(self.data_dir)
        if not force and state.get(scope) == digest:
            log.info("application commands unchanged (%s): not syncing", scope)
            return False
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d application commands (%s)", len(synced), scope)
        write_sync_state(self.data_dir, state | {scope: digest})
        return True


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("could not load the index at start-up", exc_info=task.exception())


def payload_hash(payloads: list[dict]) -> str:
    return hashlib.sha256(json.dumps(payloads, sort_keys=True).encode()).hexdigest()


def read_sync_state(data_dir: Path) -> dict[str, str]:
    try:
        return json.loads((data_dir / SYNC_STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_sync_state(data_dir: Path, state: dict[str, str]) -> None:
    """Write atomically: a temp file in the same folder, then os.replace."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".sync-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, data_dir / SYNC_STATE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_admin(member: discord.abc.User, permissions: discord.Permissions, admin_roles: list[int]) -> bool:
    """Manage Server, Administrator, or one of the configured roles, by id (names are not unique)."""
    if permissions.manage_guild or permissions.administrator:
        return True
    wanted = set(admin_roles)
    return any(r.id in wanted for r in getattr(member, "roles", []))


def may_administer(interaction: discord.Interaction) -> bool:
    """Whether the member behind an interaction has admin rights here (in a server, never in DMs)."""
    bot = interaction.client
    assert isinstance(bot, NewsBot)
    return interaction.guild is not None and is_admin(
        interaction.user, interaction.permissions, bot.settings.admin_roles
    )


def admin_check(interaction: discord.Interaction) -> bool:
    """app_commands check: raises NotAdmin (a CheckFailure) for members without admin rights."""
    if not may_administer(interaction):
        raise NotAdmin()
    return True


admin_only = app_commands.check(admin_check)


# -- whose news: viewers, scopes and operators (index/scopes.py) ------------------------------------


async def is_operator(interaction: discord.Interaction) -> bool:
    """The bot's operators: its owner (the application's owner or team members), and the admins of
    the servers in NEWSBOT_HOME_GUILD_IDS; with that unset and the bot in one server, that server's
    admins (a self-hosted bot works as it did before servers had news of their own)."""
    bot = interaction.client
    assert isinstance(bot, NewsBot)
    if await bot.is_owner(interaction.user):  # (discord.py reads the application info once)
        return True
    if interaction.guild_id is None or not may_administer(interaction):
        return False
    homes = bot.settings.home_guild_ids
    if homes:
        return interaction.guild_id in homes
    return len(bot.guilds) == 1 and bot.guilds[0].id == interaction.guild_id


async def write_scope(interaction: discord.Interaction) -> str:
    """The scope an admin's /ingest adds to: the operator's news for operators, else the server's."""
    if await is_operator(interaction):
        return OPERATOR
    assert interaction.guild_id is not None  # admin commands are guild only
    return guild_scope(interaction.guild_id)


async def remove_scope(interaction: discord.Interaction) -> str | None:
    """Whose articles an admin may remove: every one for operators (None), else the server's own."""
    return None if await is_operator(interaction) else guild_scope(interaction.guild_id or 0)


async def operator_check(interaction: discord.Interaction) -> bool:
    """app_commands check for operations on everything: NotAdmin for members, NotOperator for the
    admins of other servers."""
    admin_check(interaction)
    if not await is_operator(interaction):
        raise NotOperator()
    return True


operator_only = app_commands.check(operator_check)
