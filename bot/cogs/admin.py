"""Admin commands: `/reindex`, `/ingest`, `/remove`, `/stats`, `/sync`.

Hidden from members by default (Manage Server) and checked again when invoked, since a server can
override default permissions: Manage Server, Administrator, or a role whose id is in NEWSBOT_ADMIN_ROLES.
A server's admins add and remove their server's own news (`/ingest`, `/remove`); operations on
everything (`/reindex`, `/stats`, `/sync`, removing the operator's news) are for the bot's operators
(`bot.client.is_operator`), whose `/ingest` adds news every server sees.
Ingests, reindexes and removals run in the bot's admin pool, never in the threads answering uses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index.engine import ReindexBusy
from index.models import IngestReport

from .. import engine_calls, render
from ..client import admin_only, may_administer, operator_only, remove_scope, write_scope
from ..errors import UserFacingError
from ..parsing import resolve_article, title_choices
from ..scoping import viewer_of
from ..skips import ingest_summary

if TYPE_CHECKING:
    from ..client import NewsBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()


def admin_command(*, operator: bool = False, **kwargs):
    """An app command for admins (or operators only): hidden by default, guild only, checked again at
    invocation."""

    def wrap(func):
        func = operator_only(func) if operator else admin_only(func)
        func = app_commands.guild_only()(func)
        func = app_commands.default_permissions(manage_guild=True)(func)
        return app_commands.command(**kwargs)(func)

    return wrap


class ProgressState:
    """The latest progress report of a worker thread, read by the event loop (a plain attribute swap)."""

    def __init__(self) -> None:
        self.latest: tuple[str, int, int | None] | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.latest = (stage, done, total)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
RECORDS_UPLOAD_LIMIT = 100_000_000  # a JSON Lines upload holds many articles, each read within the page cap


def upload_limit(filename: str, page_limit: int) -> int:
    """Largest attachment accepted: one page's cap, or more for a JSON Lines file of many articles."""
    return RECORDS_UPLOAD_LIMIT if filename.lower().endswith((".jsonl", ".ndjson")) else page_limit


class Admin(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def _say(self, interaction: discord.Interaction, text: str) -> None:
        for part in render.plain_messages(text):
            await interaction.followup.send(**part.kwargs(), suppress_embeds=True)

    # -- reindex ----------------------------------------------------------------------------------

    @admin_command(
        operator=True,
        name="reindex",
        description="Rebuild the vector index; questions are answered meanwhile.",
    )
    @app_commands.describe(full="Re-chunk and re-embed every article (slow) instead of reusing embeddings.")
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        if self.bot.engine.reindexing:
            raise ReindexBusy("a reindex is already running")
        await interaction.response.defer(thinking=True)
        state = ProgressState()
        shower = asyncio.create_task(self._show_progress(interaction, state, full))
        try:
            report = await self.bot.run_admin(self.bot.engine.reindex, full=full, progress=state)
        finally:
            shower.cancel()
        self.bot.titles.invalidate()
        await interaction.edit_original_response(
            content=f"Reindex done: {report.chunks} passages ({report.embedded} embedded, "
            f"{report.reused} reused) in {report.seconds:.1f} s.",
            allowed_mentions=NONE,
        )

    async def _show_progress(
        self, interaction: discord.Interaction, state: ProgressState, full: bool
    ) -> None:
        """Edit the reply with the latest progress, at most once per `progress_interval` seconds."""
        shown = None
        await interaction.edit_original_response(
            content=("Full reindex" if full else "Reindex") + " started…", allowed_mentions=NONE
        )
        while True:
            await asyncio.sleep(self.bot.settings.progress_interval)
            latest = state.latest
            if latest is not None and latest != shown:
                shown = latest
                try:
                    await interaction.edit_original_response(
                        content=render.progress_text(*latest, full=full), allowed_mentions=NONE
                    )
                except discord.HTTPException:
                    log.warning("could not show reindex progress", exc_info=True)

    # -- ingest / remove -------------------------------------------------------------------------

    @admin_command(name="ingest", description="Add news: an article URL, a feed URL, or an attached file.")
    @app_commands.describe(
        url="An article page or an RSS/Atom feed (http or https).",
        file="A text, HTML, feed or JSON Lines file of articles.",
    )
    async def ingest(
        self,
        interaction: discord.Interaction,
        url: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        if (url is None) == (file is None):
            raise UserFacingError("Give either a URL (article or feed) or an attached file.")
        if url is not None and not re.match(r"^https?://\S+$", url.strip()):
            raise UserFacingError("The URL must start with http:// or https://.")
        if file is not None and file.size > upload_limit(
            file.filename, self.bot.engine.settings.fetch_max_bytes
        ):
            raise UserFacingError(f"That file is too large ({file.size} bytes).")
        await interaction.response.defer(thinking=True)
        scope = await write_scope(interaction)
        if url is not None:
            report = await self.bot.run_admin(self.bot.engine.ingest, [url.strip()], scope=scope)
        else:
            assert file is not None
            report = await self._ingest_file(file, scope)
        self.bot.invalidate_choices()
        await self._say(interaction, ingest_summary(report))

    async def _ingest_file(self, file: discord.Attachment, scope: str) -> IngestReport:
        data = await file.read()
        name = _UNSAFE.sub("_", file.filename) or "upload.txt"

        def ingest() -> IngestReport:
            with tempfile.TemporaryDirectory(prefix="newsbot-upload-") as folder:
                path = Path(folder) / name
                path.write_bytes(data)
                report = self.bot.engine.ingest([str(path)], scope=scope)
            # Skipped items are named by the uploaded file's name, not the server's temporary folder.
            prefix = f"{folder}{os.sep}"
            report.skipped = [replace(s, source=s.source.removeprefix(prefix)) for s in report.skipped]
            return report

        return await self.bot.run_admin(ingest)

    @admin_command(name="remove", description="Remove an article this server added (operators: any article).")
    @app_commands.describe(article="The article: start typing its title and pick it from the list.")
    async def remove(self, interaction: discord.Interaction, article: str) -> None:
        scope = await remove_scope(interaction)
        if scope is None:
            titles = await self.bot.removable.get(None)
        else:  # the server's own articles; the operator's are named so the refusal can say why
            titles = await self.bot.titles.get(viewer_of(interaction))
        article_id = resolve_article(titles, article)
        title = dict(titles).get(article_id, article_id)
        await interaction.response.defer(thinking=True)
        removed = await self.bot.run_admin(self.bot.engine.remove, article_id, scope=scope)
        self.bot.invalidate_choices()
        if not removed:
            await self._say(interaction, f"“{title}” was already gone.")
        elif scope is not None and await asyncio.to_thread(self.bot.engine.article, article_id, viewer=scope):
            # The server's claim is gone, but the operator's sources carry the story too.
            await self._say(
                interaction,
                f"Removed “{title}” from this server's own news; the bot's own sources carry it too, "
                "so it still shows here.",
            )
        else:
            await self._say(interaction, f"Removed “{title}”.")

    @remove.autocomplete("article")
    async def _titles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        # Checks do not run for autocomplete, and a server may show the command to anyone: only admins
        # are offered article titles, and only those they may remove.
        if not may_administer(interaction):
            return []
        return title_choices(await self.bot.removable.get(await remove_scope(interaction)), current)

    # -- stats / sync -----------------------------------------------------------------------------

    @admin_command(
        operator=True,
        name="stats",
        description="Articles, passages, model, last update, questions and latency.",
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        stats, questions, votes = await asyncio.to_thread(engine_calls.stats, self.bot.engine)
        for part in render.stats_messages(stats, questions, votes):
            await interaction.followup.send(**part.kwargs(), ephemeral=True)

    @admin_command(operator=True, name="sync", description="Sync newsbot's slash commands with Discord now.")
    async def sync(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.sync_commands(force=True)
        await interaction.followup.send("Commands synced.", ephemeral=True, allowed_mentions=NONE)


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Admin(bot))
