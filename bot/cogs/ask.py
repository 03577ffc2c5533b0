"""Asking: mentions, replies, threads and answer channels; `/ask`; the "Ask newsbot" message menu."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import engine_calls, render
from ..engine_calls import Turn
from ..errors import APOLOGY, message_for
from ..parsing import name_choices, parse_since, strip_mentions
from ..scoping import viewer_of
from ..views import AnswerView, AskedQuestion

if TYPE_CHECKING:
    from ..client import NewsBot

log = logging.getLogger(__name__)

HOW_TO_ASK = (
    "Ask me about the news: mention me with a question, e.g. “@newsbot what happened in the election?”"
)


def answer_text(message: discord.Message) -> str:
    """The text of one of the bot's answers (its embeds' descriptions) or of a member's message."""
    parts = [e.description for e in message.embeds if e.description]
    return "\n".join(parts) or message.content


class Ask(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Ask newsbot", callback=self.ask_about_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    # -- messages ----------------------------------------------------------------------------------

    def _own_ids(self, message: discord.Message) -> list[int]:
        me = self.bot.user
        assert me is not None
        ids = [me.id]
        if message.guild is not None and message.guild.me is not None:
            ids += [r.id for r in message.guild.me.roles if r.is_bot_managed()]
        return ids

    def _called(self, message: discord.Message) -> bool:
        """A DM, a mention of the bot (or its role), or a reply to one of its messages."""
        me = self.bot.user
        if me is None:
            return False
        if message.guild is None or me in message.mentions:
            return True
        if any(r.id in self._own_ids(message) for r in message.role_mentions):
            return True
        ref = message.reference.resolved if message.reference else None
        return isinstance(ref, discord.Message) and ref.author.id == me.id

    def _in_answer_channel(self, message: discord.Message) -> bool:
        channels = self.bot.settings.answer_channels
        return message.channel.id in channels or getattr(message.channel, "parent_id", None) in channels

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        called = self._called(message)
        if not (called or self._in_answer_channel(message)):
            return
        question = strip_mentions(message.content, self._own_ids(message))
        if not question and not called:  # e.g. an answer channel without the message content intent
            return
        try:
            if not question:
                await message.reply(
                    HOW_TO_ASK, mention_author=False, allowed_mentions=discord.AllowedMentions.none()
                )
                return
            async with self.bot.limiter.slot(message.author.id):
                history = await self.history_of(message)
                async with message.channel.typing():
                    answer, info = await asyncio.to_thread(
                        engine_calls.answer_question,
                        self.bot.engine,
                        question,
                        history=history,
                        viewer=viewer_of(message),
                    )
            await self.reply(
                message,
                render.answer_messages(answer, info),
                AskedQuestion(answer.question, cited=_cited(answer)),
            )
        except Exception as error:
            await self._report(message, error)

    async def _report(self, message: discord.Message, error: Exception) -> None:
        text = message_for(error)
        if text is None:
            log.error("unexpected error answering message %s", message.id, exc_info=error)
            text = APOLOGY
        try:
            await message.reply(text, mention_author=False, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not reply to message %s", message.id, exc_info=True)

    async def reply(
        self, message: discord.Message, parts: Sequence[render.Outgoing], asked: AskedQuestion
    ) -> None:
        """Every part replies to the question (so a reply to any part continues the chain); buttons
        under the last."""
        sent: discord.Message | None = None
        for i, part in enumerate(parts):
            extra = {"view": AnswerView()} if i == len(parts) - 1 else {}
            sent = await message.reply(**part.kwargs(), mention_author=False, **extra)
        if sent is not None:
            await self.bot.answers.remember(sent.id, asked)

    async def history_of(self, message: discord.Message) -> list[Turn]:
        """Earlier turns, oldest first: the reply chain if there is one, else the thread's last messages."""
        limit = self.bot.settings.history_turns
        if limit == 0:
            return []
        if message.reference is not None:
            turns = await self._reply_chain(message, limit)
        elif isinstance(message.channel, discord.Thread):
            turns = [
                self._turn(m)
                async for m in message.channel.history(limit=limit, before=message)
                if m.author.id == self.bot.user.id or not m.author.bot  # type: ignore[union-attr]
            ]
        else:
            return []
        return [t for t in reversed(turns) if t.text]

    async def _reply_chain(self, message: discord.Message, limit: int) -> list[Turn]:
        turns: list[Turn] = []
        ref = message.reference
        while ref is not None and ref.message_id is not None and len(turns) < limit:
            earlier = ref.resolved if isinstance(ref.resolved, discord.Message) else None
            if earlier is None:
                try:
                    earlier = await message.channel.fetch_message(ref.message_id)
                except discord.HTTPException:
                    break
            turns.append(self._turn(earlier))
            ref = earlier.reference
        return turns

    def _turn(self, message: discord.Message) -> Turn:
        if self.bot.user is not None and message.author.id == self.bot.user.id:
            return Turn("bot", answer_text(message))
        return Turn("user", strip_mentions(message.content, self._own_ids(message)))

    # -- slash command and message menu ------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask about the news: answered with quoted, cited excerpts.")
    @app_commands.describe(
        question="What you want to know, in your own words.",
        since="Only news from this date on: 2024-05-01, 7d, 2 weeks, yesterday.",
        source="Only news from this outlet.",
        private="Only you see the answer.",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 2, 500],
        since: str | None = None,
        source: str | None = None,
        private: bool = False,
    ) -> None:
        since_date = parse_since(since)
        sources = (source,) if source else None
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True, ephemeral=private)
            answer, info = await asyncio.to_thread(
                engine_calls.answer_question,
                self.bot.engine,
                question,
                since=since_date,
                sources=sources,
                viewer=viewer_of(interaction),
            )
        asked = AskedQuestion(answer.question, since_date, sources, _cited(answer))
        await self.follow_up(interaction, render.answer_messages(answer, info), asked, ephemeral=private)

    @ask.autocomplete("source")
    async def _source_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return name_choices(await self.bot.outlet_names.get(viewer_of(interaction)), current)

    async def ask_about_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        question = " ".join((message.content or answer_text(message)).split())
        if not question:
            await interaction.response.send_message(
                "That message has no text to ask about.",
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        async with self.bot.limiter.slot(interaction.user.id):
            await interaction.response.defer(thinking=True)
            answer, info = await asyncio.to_thread(
                engine_calls.answer_question, self.bot.engine, question, viewer=viewer_of(interaction)
            )
        await self.follow_up(
            interaction,
            render.answer_messages(answer, info),
            AskedQuestion(answer.question, cited=_cited(answer)),
        )

    async def follow_up(
        self,
        interaction: discord.Interaction,
        parts: Sequence[render.Outgoing],
        asked: AskedQuestion,
        *,
        ephemeral: bool = False,
    ) -> None:
        sent = None
        for i, part in enumerate(parts):
            extra = {"view": AnswerView()} if i == len(parts) - 1 else {}
            sent = await interaction.followup.send(**part.kwargs(), ephemeral=ephemeral, wait=True, **extra)
        if sent is not None:
            await self.bot.answers.remember(sent.id, asked)


def _cited(answer: object) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.article_id for c in getattr(answer, "citations", ())))


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Ask(bot))
