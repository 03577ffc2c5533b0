"""`newsbot run`: start the Discord bot. Discord code is imported only when the command runs, so
`index/` stays free of Discord for every other command."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DataDir


def run(
    data_dir: DataDir = None,
    shards: Annotated[
        str | None,
        typer.Option(
            "--shards",
            help="The shards this process runs, as ranges and ids (0-3, or 0-3,6); the others run in "
            "other processes [env: NEWSBOT_SHARDS; default: every shard].",
        ),
    ] = None,
    shard_count: Annotated[
        int | None,
        typer.Option(
            "--shard-count",
            help="Shards in all, the same in every process [env: NEWSBOT_SHARD_COUNT; default: "
            "Discord's recommendation].",
        ),
    ] = None,
) -> None:
    """Start the Discord bot (needs DISCORD_TOKEN; see .env.example and docs/discord.md); with
    --shards and --shard-count, one of several processes sharing the bot's shards (docs/deploy.md)."""
    from bot.__main__ import main

    options = {"shards": shards, "shard_count": shard_count}
    raise typer.Exit(main(data_dir=data_dir, **{k: v for k, v in options.items() if v is not None}))


def register(app: typer.Typer) -> None:
    app.command()(run)
