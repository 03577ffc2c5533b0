"""Buttons under an answer: "More sources" (ephemeral) and 👍/👎 feedback stored in SQLite.

The view is persistent (fixed custom ids, registered once in setup_hook), so buttons keep working across
restarts; what an answer was about is remembered per message in SQLite (`index.storage.feedback`), the most
recent ones in memory too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import discord

from . import engine_calls, render
from .scoping import viewer_of

if TYPE_CHECKING:
    from index.engine import Engine

    from .client import NewsBot

MORE_ID = "newsbot:more-sources"
UP_ID = "newsbot:vote-up"
DOWN_ID = "newsbot:vote-down"


@dataclass(frozen=True)
class AskedQuestion:
    """What an answer message was about: enough to fetch its next sources."""

    question: str
    since: str | None = None
    sources: tuple[str, ...] | None = None
    cited: tuple[str, ...] = ()  # article ids already shown


class VoteOrder:
    """Votes recorded in the order members clicked. A vote defers before it writes (SQLite may wait on a
    writer), so a member's quick 👍 then 👎 on one answer could reach SQLite the other way round and
    leave the first click standing. Each click takes a ticket before anything else; writes go one at a
    time, and a vote older than one already recorded for that member and answer is dropped."""

    KEPT = 10_000  # (answer, member) pairs remembered; an older pair's late vote is simply written

    def __init__(self) -> None:
        self._tickets = itertools.count()
        self._lock = asyncio.Lock()
        self._recorded: OrderedDict[tuple[int, int], int] = OrderedDict()

    def ticket(self) -> int:
        return next(self._tickets)

    async def record(self, key: tuple[int, int], ticket: int, write: Callable[[], Awaitable[None]]) -> bool:
        """Run `write` unless a later click of the same member on the same answer is recorded already."""
        async with self._lock:
            if self._recorded.get(key, -1) > ticket:
                return False
            await write()
            self._recorded[key] = ticket
            self._recorded.move_to_end(key)
            while len(self._recorded) > self.KEPT:
                self._recorded.popitem(last=False)
        return True


class AnswerMemory:
    """The questions behind answer messages: kept in SQLite, the most recent also in memory."""

    def __init__(self, engine: Engine, size: int = 2000):
        self.engine = engine
        self.size = size
        self._items: OrderedDict[int, AskedQuestion] = OrderedDict()

    async def remember(self, message_id: int, asked: AskedQuestion) -> None:
        self._keep(message_id, asked)
        await asyncio.to_thread(engine_calls.remember_answer, self.engine, message_id, asdict(asked))

    async def get(self, message_id: int) -> AskedQuestion | None:
        if message_id in self._items:
            return self._items[message_id]
        context = await asyncio.to_thread(engine_calls.answer_context, self.engine, message_id)
        if context is None:
            return None
        asked = AskedQuestion(
            question=context["question"],
            since=context.get("since"),
            sources=tuple(context["sources"]) if context.get("sources") else None,
            cited=tuple(context.get("cited") or ()),
        )
        self._keep(message_id, asked)
        return asked

    def _keep(self, message_id: int, asked: AskedQuestion) -> None:
        self._items[message_id] = asked
        self._items.move_to_end(message_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class AnswerView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    def _bot(self, interaction: discord.Interaction) -> NewsBot:
        return interaction.client  # type: ignore[return-value]

    @discord.ui.button(label="More sources", style=discord.ButtonStyle.secondary, custom_id=MORE_ID)
    async def more_sources(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        bot = self._bot(interaction)
        async with bot.limiter.slot(interaction.user.id):  # a search, limited like a question
            await interaction.response.defer(ephemeral=True, thinking=True)
            asked = await bot.answers.get(interaction.message.id) if interaction.message else None
            if asked is None:
                await interaction.followup.send(
                    "I no longer remember that question: please ask it again.",
                    ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
                return
            hits, info = await asyncio.to_thread(
                engine_calls.more_sources,
                bot.engine,
                asked.question,
                shown=asked.cited,
                since=asked.since,
                sources=asked.sources,
                viewer=viewer_of(interaction),
            )
        for part in render.hits_messages("More sources", hits, info, empty="No other articles match."):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)

    @discord.ui.button(emoji="👍", style=discord.ButtonStyle.secondary, custom_id=UP_ID)
    async def vote_up(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._vote(interaction, 1)

    @discord.ui.button(emoji="👎", style=discord.ButtonStyle.secondary, custom_id=DOWN_ID)
    async def vote_down(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._vote(interaction, -1)

    async def _vote(self, interaction: discord.Interaction, vote: int) -> None:
        bot = self._bot(interaction)
        ticket = bot.votes.ticket()  # in click order: nothing has been awaited yet
        async with bot.vote_limiter.slot(interaction.user.id):  # a SQLite write, limited apart from questions
            await interaction.response.defer(ephemeral=True, thinking=True)  # SQLite may wait on a writer
            await self._record_vote(bot, interaction, ticket, vote)
        await interaction.followup.send(
            "Thanks for the feedback!", ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    async def _record_vote(
        self, bot: NewsBot, interaction: discord.Interaction, ticket: int, vote: int
    ) -> None:
        message_id = interaction.message.id if interaction.message else 0
        asked = await bot.answers.get(message_id)

        def write() -> Awaitable[None]:
            return asyncio.to_thread(
                engine_calls.record_vote,
                bot.engine,
                message_id=message_id,
                user_id=interaction.user.id,
                question=asked.question if asked else "",
                vote=vote,
            )

        await bot.votes.record((message_id, interaction.user.id), ticket, write)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        await self._bot(interaction).tree.on_error(interaction, error)  # type: ignore[arg-type]
