"""`newsbot alerts test|add|list|remove`: topic alerts without the bot (docs/alerts.md).

`alerts test TOPIC` shows what the topic would have matched, with exactly the rule and threshold of live
alerts. Alerts added here post to a Discord channel (by id) when the bot runs; they see the news of the
scope given (a server's, `guild:<id>`, or the operator's). Bad input exits with status 2 and a message
naming it, having changed nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from ..live import alerts
from ..scopes import OPERATOR, parse_scope
from .common import AsJson, DataDir, Viewer, emit, open_engine, printable

alerts_app = typer.Typer(help="Topic alerts: new stories about a topic posted to a channel or a member.")


def _fail(error: Exception) -> typer.Exit:
    typer.echo(printable(f"newsbot: {error}"), err=True)
    return typer.Exit(2)


def _scope(value: str) -> str:
    try:
        return parse_scope(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _now(value: str | None) -> float | None:
    """--now as the end of that day (UTC), so `--since 7d` counts back from it."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: write it as YYYY-MM-DD") from None
    return dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC).timestamp()


@alerts_app.command("test")
def test(
    topic: Annotated[str, typer.Argument(help='The topic, as a person would type it: "interest rates".')],
    since: Annotated[
        str, typer.Option("--since", help="Look back this far (7d, 24h) or from this date (YYYY-MM-DD).")
    ] = alerts.TEST_SINCE,
    now: Annotated[str | None, typer.Option("--now", help="Count --since back from this date.")] = None,
    viewer: Viewer = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """What the topic would have alerted about: one row per matching story, best first."""
    try:
        day = alerts.since_date(since, now=_now(now))
    except alerts.AlertError as error:
        raise _fail(error) from None
    with open_engine(data_dir) as engine:
        try:
            found = alerts.test(engine, topic, viewer=viewer, since=day)
        except alerts.AlertError as error:
            raise _fail(error) from None
    if as_json:
        emit([m.to_json() for m in found])
        return
    if not found:
        typer.echo(f"Nothing published since {day} is about that topic.")
    for m in found:
        typer.echo(printable(f"{m.score:.3f}  {m.published or 'undated'}  {m.source or '-'}  {m.title}"))
        typer.echo(printable(f"       > {m.excerpt}"))


@alerts_app.command("add")
def add(
    topic: Annotated[str, typer.Argument(help="The topic to follow.")],
    channel: Annotated[int, typer.Option("--channel", help="The Discord channel id to post in.")],
    scope: Annotated[
        str,
        typer.Option("--scope", help='Whose news it watches: "operator" or "guild:<id>".', callback=_scope),
    ] = OPERATOR,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Post new stories about a topic to a channel (when the bot runs)."""
    with open_engine(data_dir) as engine:
        try:
            alert = alerts.add(engine, topic, scope=scope, channel_id=channel, added_by="cli")
        except alerts.AlertError as error:
            raise _fail(error) from None
    emit(_json(alert)) if as_json else typer.echo(_line(alert))


@alerts_app.command("list")
def list_(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Every alert and member's follow, with its last delivery problem."""
    with open_engine(data_dir) as engine:
        found = alerts.list_alerts(engine)
    if as_json:
        emit([_json(a) for a in found])
        return
    if not found:
        typer.echo("No alerts. Add one with `newsbot alerts add TOPIC --channel ID`.")
    for alert in found:
        typer.echo(_line(alert))


@alerts_app.command("remove")
def remove(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (`alerts list`).")],
    data_dir: DataDir = None,
) -> None:
    """Stop an alert (or a member's follow)."""
    with open_engine(data_dir) as engine:
        try:
            alert = alerts.remove(engine, alert_id)
        except alerts.AlertError as error:
            raise _fail(error) from None
    typer.echo(printable(f"removed alert {alert.id}: {alert.topic}"))


def _json(alert: alerts.Alert) -> dict:
    return {
        "id": alert.id, "scope": alert.scope, "target": alert.target, "topic": alert.topic,
        "created_at": alert.created_at, "paused": alert.paused, "last_error": alert.last_error,
    }  # fmt: skip


def _line(alert: alerts.Alert) -> str:
    state = "paused" if alert.paused else "on"
    error = f"  last error: {alert.last_error}" if alert.last_error else ""
    return printable(f"{alert.id:>4}  {state:6}  {alert.scope}  {alert.target}  {alert.topic}{error}")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
