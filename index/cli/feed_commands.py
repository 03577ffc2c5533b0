"""`newsbot feeds add/list/remove`, `newsbot poll --once` and `newsbot watch`: the poller without the bot.

Feeds added here are the operator's (every server sees their articles). Bad input (URL, interval, id)
exits with status 2 and a message naming it, having changed nothing."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Annotated

import typer

from ..coordination import POLL, LeaseKeeper, work_lease
from ..live import CycleReport, Feed, FeedError, Poller
from ..live import feeds as live_feeds
from ..live.schedule import DEFAULT_INTERVAL, parse_interval
from ..scopes import OPERATOR
from .common import AsJson, DataDir, emit, open_engine, printable

feeds_app = typer.Typer(help="Feeds polled on a schedule (the operator's: every server sees them).")


def _interval(value: str | None) -> int:
    if value is None:
        return DEFAULT_INTERVAL
    try:
        return parse_interval(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _fail(error: Exception, code: int = 2) -> typer.Exit:
    typer.echo(printable(f"newsbot: {error}"), err=True)
    return typer.Exit(code)


def _line(feed: Feed) -> str:
    health = "broken" if feed.broken else ("paused" if feed.paused else "ok")
    error = f"  last error: {feed.last_error} ({feed.failures} in a row)" if feed.last_error else ""
    return printable(
        f"{feed.id:>4}  {health:6}  every {feed.interval_s // 60}m  {feed.articles} articles  "
        f"checked {feed.last_checked or 'never'}  new {feed.last_new or 'never'}  "
        f"{feed.title or '-'}  {feed.url}{error}"
    )


@feeds_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="A feed's URL, or a page that links its feed.")],
    interval: Annotated[
        str | None, typer.Option("--interval", help="How often to check it: 15m, 1h, 900s (at least 5m).")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Follow a feed and poll it at once (its articles are answerable when this returns)."""
    seconds = _interval(interval)
    with open_engine(data_dir) as engine:
        try:
            feed = live_feeds.add(engine, url, scope=OPERATOR, interval_s=seconds, added_by="cli")
        except FeedError as error:
            raise _fail(error) from None
    if as_json:
        emit(feed.to_json())
    else:
        typer.echo(_line(feed))


@feeds_app.command("list")
def list_(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Every feed with its health: last check, last new article, last error, failures in a row."""
    with open_engine(data_dir) as engine:
        found = live_feeds.list_feeds(engine)
    if as_json:
        emit([f.to_json() for f in found])
        return
    if not found:
        typer.echo("No feeds. Add one with `newsbot feeds add URL`.")
    for feed in found:
        typer.echo(_line(feed))


@feeds_app.command("remove")
def remove(
    feed_id: Annotated[int, typer.Argument(help="The feed's id (see `newsbot feeds list`).", min=1)],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Stop following a feed; the articles only it brought are removed."""
    with open_engine(data_dir) as engine:
        try:
            removed = live_feeds.remove(engine, feed_id)
        except FeedError as error:
            raise _fail(error, 1) from None
    if as_json:
        emit({"removed": feed_id, "articles_removed": removed})
    else:
        typer.echo(f"removed feed {feed_id} and {len(removed)} articles only it brought")


def _summary(report: CycleReport) -> str:
    return (
        f"checked {report.feeds_checked} feeds: {report.not_modified} unchanged, "
        f"{report.new_articles} new articles, {len(report.errors)} errors"
    )


def poll(
    once: Annotated[
        bool, typer.Option("--once", help="Check every feed now, whatever its schedule.")
    ] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Check every feed once, now (for cron jobs and scripts). Exits 1 if any feed failed. It does not
    wait for the poll lease: a check beside the polling process only finds its entries stored."""
    if not once:
        raise typer.BadParameter("pass --once (or run `newsbot watch` to poll on each feed's schedule)")
    with open_engine(data_dir) as engine:
        report = Poller(engine).run_once(force=True)
    if as_json:
        emit(report.to_json())
    else:
        typer.echo(_summary(report))
        for error in report.errors:
            typer.echo(printable(f"  feed {error['feed']} ({error['url']}): {error['reason']}"))
    raise typer.Exit(1 if report.errors else 0)


def _announce(held: bool, holder: str | None) -> None:
    if held:
        typer.echo("polling the feeds (this process holds the poll lease)")
    else:
        typer.echo(
            printable(f"another process polls the feeds ({holder or 'unknown'}): taking over if it stops")
        )


def watch(data_dir: DataDir = None) -> None:
    """Poll every feed on its own schedule until Ctrl-C. Only one process polls a store at a time (a bot
    or another watch on the same data folder or database): the others wait and take over if it stops."""
    stop = threading.Event()

    def stopping(signum: int, frame: object) -> None:
        if not stop.is_set():
            typer.echo("stopping after the feeds being checked…", err=True)
        stop.set()

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_engine(data_dir) as engine, contextlib.ExitStack() as serving:
            try:
                address = serving.enter_context(engine.metrics_endpoint())
            except OSError as error:
                metrics_at = engine.settings.metrics_address
                raise _fail(f"cannot serve metrics on {metrics_at} ({error.strerror})") from None
            poller = Poller(engine)
            count = len(live_feeds.list_feeds(engine))
            typer.echo(f"watching {count} feeds (Ctrl-C stops)")
            if address:
                typer.echo(f"metrics on http://{address[0]}:{address[1]}/metrics")

            def checked(feed: Feed, result: CycleReport) -> None:
                what = (
                    f"error: {result.errors[0]['reason']}" if result.errors
                    else "unchanged" if result.not_modified else f"{result.new_articles} new"
                )  # fmt: skip
                typer.echo(printable(f"feed {feed.id} {feed.title or feed.url}: {what}"))

            with LeaseKeeper(work_lease(engine.settings, POLL), on_change=_announce) as keeper:
                engine.metrics.track_lease(keeper)
                poller.run_forever(
                    stop, progress=checked, on_cycle=lambda r: typer.echo(_summary(r)), may_run=keeper.held
                )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
    app.command()(poll)
    app.command()(watch)
