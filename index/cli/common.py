"""What the `newsbot` commands share: their options, the engine they open, and JSON output."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from tqdm import tqdm

from ..config import Settings, settings_problem
from ..engine import Engine
from ..scopes import parse_viewer
from ..storage.store import StoreUnusable
from .input import (
    SURROGATE,
    iso_date,
    outlet_names,
)

log = logging.getLogger("newsbot")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="NEWSBOT_DATA_DIR", help="Folder for news.db and the index [default: data]."
    ),
]


AsJson = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
Since = Annotated[
    str | None,
    typer.Option("--since", help="Only articles published on or after this date.", callback=iso_date),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="Only articles published on or before this date.", callback=iso_date),
]
Source = Annotated[
    list[str] | None,
    typer.Option("--source", help="Only articles from this outlet (repeatable).", callback=outlet_names),
]


def viewer_option(value: str | None) -> str | None:
    try:
        return parse_viewer(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


Viewer = Annotated[
    str | None,
    typer.Option(
        "--viewer",
        help='Only what this viewer sees: "operator" (the bot\'s DMs) or "guild:<id>" (that Discord '
        "server) [default: everything].",
        callback=viewer_option,
    ),
]


def settings_for(data_dir: Path | None) -> Settings:
    """The settings, or exit status 2 with the bad setting named (a bad value in .env is bad input too)."""
    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except ValidationError as error:
        typer.echo(settings_problem(error), err=True)
        raise typer.Exit(2) from None


@contextmanager
def open_engine(data_dir: Path | None) -> Iterator[Engine]:
    try:
        engine = Engine(settings_for(data_dir))
    except StoreUnusable as error:
        typer.echo(f"newsbot: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        yield engine
    finally:
        engine.close()


def emit(data: object) -> None:
    """One JSON line; a lone surrogate (an undecodable file name's byte) is written as its \\u escape."""
    typer.echo(SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False)))


def printable(text: str) -> str:
    """Text for the terminal: a lone surrogate shown as U+FFFD rather than failing to print."""
    return SURROGATE.sub("\ufffd", text)


class Bar:
    """A tqdm progress bar on stderr fed by the engine's progress callbacks, one bar per stage."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="item", file=sys.stderr, leave=True)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
