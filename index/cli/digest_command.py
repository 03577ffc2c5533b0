"""`newsbot digest`: the top stories of a period, grouped by story and ranked by how many outlets carried
them (the digest a schedule posts to a Discord channel, index/live/digests.py).

Registered on the `newsbot` app by `index/cli/__init__.py`; with --json it prints what `summary --json`
prints, {points, citations}."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from ..answers.summarize import period_range
from ..live import digests
from .answer_commands import Now, _show_summary
from .common import AsJson, DataDir, Until, Viewer, emit, open_engine

SinceOrPeriod = Annotated[
    str,
    typer.Option(
        "--since",
        help="The period: 1d (today), 7d, 2w... counting back from --until, or a date YYYY-MM-DD.",
    ),
]


def period_of(since: str, until: str | None, now: str | None) -> tuple[str, str]:
    """(first day, last day) of `--since` (a period or a date) up to `--until` (else --now, else today)."""
    end = until or now or dt.date.today().isoformat()
    try:
        start = dt.date.fromisoformat(since.strip()).isoformat()
    except ValueError:
        try:
            start, end = period_range(since, end)
        except ValueError as error:
            raise typer.BadParameter(f"{error}, or a date YYYY-MM-DD", param_hint="--since") from None
    if start > end:
        raise typer.BadParameter(f"--since {start} is after {end}: no date is in that range")
    return start, end


def digest(
    since: SinceOrPeriod = "1d",
    until: Until = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only the stories about this subject.")] = None,
    points: Annotated[
        int,
        typer.Option("--points", help=f"Points at most, 1-{digests.MAX_DIGEST_POINTS} (a story has 1 or 2)."),
    ] = digests.DIGEST_POINTS,
    viewer: Viewer = None,
    now: Now = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """The period's top stories, biggest by outlets first, each with cited verbatim sentences."""
    start, end = period_of(since, until, now)
    if topic is not None and not topic.strip():
        raise typer.BadParameter("the topic is empty", param_hint="--topic")
    if not 1 <= points <= digests.MAX_DIGEST_POINTS:
        raise typer.BadParameter(f"1 to {digests.MAX_DIGEST_POINTS}, not {points}", param_hint="--points")
    with open_engine(data_dir) as engine:
        made = digests.digest(engine, viewer=viewer, since=start, until=end, topic=topic, max_points=points)
    if as_json:
        emit(made.to_json())
        return
    if made.points:
        typer.echo(made.tally)
    _show_summary(made, False)


def register(app: typer.Typer) -> None:
    app.command()(digest)
