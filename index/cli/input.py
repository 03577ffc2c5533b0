"""Checking what is typed on the command line before anything runs: dates, outlet names, article ids and
the JSON Lines files of questions. A bad value stops the command with a message naming it (exit status 2)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import typer

# A lone surrogate: how Python shows an undecodable byte of a command line or file name (or a JSON
# "\\ud800"); it cannot be stored or printed.
SURROGATE = re.compile("[\ud800-\udfff]")
QUERIES_FILE = {"exists": True, "dir_okay": False, "readable": True}  # typer checks for a questions file


def iso_date(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """A --since/--until/--now value: a calendar date written YYYY-MM-DD, refused otherwise; --since
    after --until is refused too (it could only ever find nothing)."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-05-01"
        ) from None
    since, until = (day, ctx.params.get("until")) if param.name == "since" else (ctx.params.get("since"), day)
    if param.name in ("since", "until") and since and until and since > until:
        raise typer.BadParameter(f"--since {since} is after --until {until}: no date is in that range")
    return day


def outlet_names(values: list[str] | None) -> list[str] | None:
    """--source values: outlet names as `newsbot articles` shows them, refused when empty or not text."""
    for value in values or []:
        if not value.strip() or SURROGATE.search(value):
            raise typer.BadParameter(f"{value!r} is not an outlet name (see `newsbot articles`)")
    return values


def check_article_id(value: str) -> str:
    if not value.strip() or not value.isprintable():
        raise typer.BadParameter(f"{value!r} is not an article id (see `newsbot articles`)")
    return value


def article_id_argument(help: str) -> typer.models.ArgumentInfo:
    """The article id a command acts on, checked before the store is opened."""
    return typer.Argument(help=help, callback=check_article_id)


QUERIES_FILE = {"exists": True, "dir_okay": False, "readable": True}


def query_lines(path: Path, option: str) -> list[tuple[str | int, str]]:
    """The (id, query) pairs of a JSON Lines file, all checked before any is run: a bad line stops the
    command with its number and what is wrong, before anything is printed."""
    found = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            if line.strip():
                found.append(_query_record(json.loads(line)))
        except UnicodeDecodeError as error:
            raise typer.BadParameter(
                f"{path} line {number}: not valid UTF-8 ({error.reason})", param_hint=option
            ) from None
        except json.JSONDecodeError as error:
            raise typer.BadParameter(
                f"{path} line {number}: not valid JSON ({error.msg})", param_hint=option
            ) from None
        except (ValueError, RecursionError) as error:
            raise typer.BadParameter(f"{path} line {number}: {error}", param_hint=option) from None
    return found


def _query_record(item: object) -> tuple[str | int, str]:
    if not isinstance(item, dict):
        raise ValueError('expected an object like {"id": "q1", "query": "..."}')
    ident, query = item.get("id"), item.get("query")
    if isinstance(ident, bool) or not isinstance(ident, str | int):
        raise ValueError('"id" must be a string or a whole number')
    if isinstance(ident, str) and SURROGATE.search(ident):
        raise ValueError('"id" holds characters that are not text (a lone surrogate)')
    if not isinstance(query, str) or not query.strip():
        raise ValueError('"query" must be a non-empty string')
    return ident, query
