"""`newsbot ask` and `newsbot summary`: answers and summaries from the command line.

Registered on the `newsbot` app by `index/cli/__init__.py`. With --json a command prints only JSON on stdout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ..answers import answer, cite, summarize_article, summarize_period, summarize_topic
from ..answers.summarize import check_points, period_range
from ..engine import Engine
from ..models import Answer, Citation, Hit, Summary
from .common import AsJson, DataDir, Since, Source, Until, Viewer, emit, open_engine
from .input import QUERIES_FILE, check_article_id, iso_date, query_lines

log = logging.getLogger(__name__)

Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Today's date for relative dates (YYYY-MM-DD) [default: the real today].",
        callback=iso_date,
    ),
]


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise typer.BadParameter(
            f"{path}: not valid UTF-8 ({error.reason})", param_hint="--articles"
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _maybe_id(value: str | None) -> str | None:
    return None if value is None else check_article_id(value)


def ask(
    question: Annotated[str | None, typer.Argument(help="A question about the news.")] = None,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions", help='JSON Lines of {"id", "query"}: one answer line each.', **QUERIES_FILE
        ),
    ] = None,
    now: Now = None,
    viewer: Viewer = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Answer a question with quoted, cited sentences from the news (or say the news doesn't answer it)."""
    if (question is None) == (questions is None):
        raise typer.BadParameter("give a QUESTION or --questions FILE, not both")
    if question is not None and not question.strip():
        raise typer.BadParameter("the question is empty")
    asked = query_lines(questions, "--questions") if questions is not None else []
    with open_engine(data_dir) as engine:
        if questions is not None:
            for ident, text in asked:
                asked_with = {"since": since, "until": until, "sources": source, "now": now}
                result = answer(engine, text, viewer=viewer, **asked_with)
                _show_answer(result, as_json, extra={"id": ident})
            return
        assert question is not None
        result = answer(engine, question, since=since, until=until, sources=source, now=now, viewer=viewer)
    _show_answer(result, as_json)


def _show_answer(result: Answer, as_json: bool, extra: dict | None = None) -> None:
    if as_json:
        emit({**result.to_json(), **(extra or {})})
        return
    if extra:
        typer.echo(f"[{extra['id']}] {result.question}")
    typer.echo(cite.relabel(result.text, result.citations))
    if result.citations:
        typer.echo("\nSources:")
        _show_citations(result.citations)
    if result.related:
        typer.echo("\nClosest articles:")
        _show_related(result.related)
    typer.echo("")


def _show_citations(citations: Sequence[Citation]) -> None:
    """One entry per article, each of its quoted excerpts under it by label ([1a], [1b]; [2] alone)."""
    for index, items in cite.by_article(citations):
        c = items[0][1]
        typer.echo(f"[{index}] {c.title} — {c.source or 'unknown outlet'}, {c.published or 'undated'}")
        if c.url:
            typer.echo(f"    {c.url}")
        for label, quoted in items:
            outlets = quoted.also_reported_by
            also = f" (also reported by {', '.join(outlets)})" if outlets else ""
            excerpt = " ".join(quoted.excerpt.split())
            typer.echo(f"    [{label}] “{excerpt}” (characters {quoted.start}–{quoted.end}){also}")


def _show_related(hits: Sequence[Hit]) -> None:
    for h in hits:
        typer.echo(f"  • {h.title} — {h.source or 'unknown outlet'}, {h.published or 'undated'}")
        if h.url:
            typer.echo(f"    {h.url}")


def summary(
    article: Annotated[
        str | None, typer.Option("--article", help="Summarize this article (its id).", callback=_maybe_id)
    ] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Key points about a subject.")] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Digest of the last 1d, 7d, 2w, 1m... grouped by story.")
    ] = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles", help="A file of article ids (one a line): one summary line each.", **QUERIES_FILE
        ),
    ] = None,
    points: Annotated[
        int | None,
        typer.Option("--points", help="Points of an article or topic summary, 1-10 [default: 3 and 6]."),
    ] = None,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    now: Now = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Summarize an article, a topic or a period with cited sentences from the news."""
    chosen = [o for o in (article, topic, period, articles) if o is not None]
    if topic is not None and not topic.strip():
        raise typer.BadParameter("the topic is empty")
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --article, --topic, --period or --articles")
    if period is not None:
        try:
            period_range(period)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    ids = _lines(articles) if articles is not None else []
    length = {} if points is None else {"max_points": points}
    if points is not None:
        try:
            check_points(points)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    with open_engine(data_dir) as engine:
        if articles is not None:
            _summarize_many(engine, ids, as_json, length)
            return
        if article is not None:
            result = summarize_article(engine, article, **length)
            if result is None:
                typer.echo(f"no article with id {article}", err=True)
                raise typer.Exit(1)
        elif topic is not None:
            result = summarize_topic(
                engine, topic, since=since, until=until, sources=source, now=now, **length
            )
        else:
            assert period is not None
            result = summarize_period(engine, period, since=since, until=until, sources=source, now=now)
    _show_summary(result, as_json)


def _summarize_many(engine: Engine, ids: list[str], as_json: bool, length: dict) -> None:
    for article_id in ids:
        result = summarize_article(engine, article_id, **length)
        if as_json:
            data = result.to_json() if result else {"points": [], "citations": [], "error": "no such article"}
            emit({"id": article_id, **data})
        elif result is None:
            typer.echo(f"no article with id {article_id}\n")
        else:
            _show_summary(result, False)


def _show_summary(result: Summary, as_json: bool) -> None:
    if as_json:
        emit(result.to_json())
        return
    typer.echo(result.title)
    typer.echo("=" * min(len(result.title), 80))
    if not result.points:
        typer.echo("Nothing in the news I have covers this.")
    for p in result.points:
        if p.heading:
            typer.echo(f"\n{p.heading}")
        carried = cite.carried(p.citations, result.citations)
        typer.echo(f"  • {p.text} {cite.labelled(p.citations, result.citations)}{carried}")
    if result.citations:
        typer.echo("\nSources:")
        _show_citations(result.citations)
    typer.echo("")


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(summary)
