"""`newsbot run`: start the Discord bot. Discord code is imported only when the command runs, so
`index/` stays free of Discord for every other command."""

from __future__ import annotations

import typer

from .common import DataDir


def run(data_dir: DataDir = None) -> None:
    """Start the Discord bot (needs DISCORD_TOKEN; see .env.example and docs/discord.md)."""
    from bot.__main__ import main

    raise typer.Exit(main(data_dir=data_dir))


def register(app: typer.Typer) -> None:
    app.command()(run)
