"""`newsbot ingest/search/articles/show/stats/remove/reindex`: the engine's own commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import AsJson, Bar, DataDir, Since, Source, Until, Viewer, emit, open_engine, printable
from .input import QUERIES_FILE, article_id_argument, query_lines


def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files, folders, http(s) URLs or feeds.")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
    no_fetch: Annotated[
        bool, typer.Option("--no-fetch", help="Never fetch linked pages of feed teasers.")
    ] = False,
) -> None:
    """Add articles to the store and the index. Exits 1 if any item was skipped."""
    with open_engine(data_dir) as engine:
        bar = Bar()
        try:
            report = engine.ingest(sources, progress=bar, fetch_linked=False if no_fetch else None)
        finally:
            bar.close()
    if as_json:
        emit(report.to_json())
    else:
        typer.echo(
            f"added {report.added}, updated {report.updated}, duplicates {report.duplicates}, "
            f"skipped {len(report.skipped)}"
        )
        for skipped in report.skipped:
            typer.echo(printable(f"  skipped {skipped.source}: {skipped.reason}"))
    raise typer.Exit(1 if report.failed else 0)


def search(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many passages.", min=1, max=1000)] = 10,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries", help='JSON Lines of {"id", "query"}: one result line each.', **QUERIES_FILE
        ),
    ] = None,
    viewer: Viewer = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Find passages by hybrid (dense + lexical) search."""
    if (query is None) == (queries is None):
        raise typer.BadParameter("give a QUERY or --queries FILE, not both")
    if query is not None and not query.strip():
        raise typer.BadParameter("the query is empty")
    asked = query_lines(queries, "--queries") if queries is not None else []
    with open_engine(data_dir) as engine:
        if queries is not None:
            for ident, text in asked:
                hits = engine.search(text, k=k, since=since, until=until, sources=source, viewer=viewer)
                emit({"id": ident, "hits": [h.to_json() for h in hits]})
            return
        hits = engine.search(query, k=k, since=since, until=until, sources=source, viewer=viewer)
    if as_json:
        emit([h.to_json() for h in hits])
        return
    if not hits:
        typer.echo("No passages found.")
    for rank, hit in enumerate(hits, start=1):
        typer.echo(f"{rank}. {hit.title} — {hit.source or 'unknown outlet'}, {hit.published or 'undated'}")
        typer.echo(f"   {hit.url or hit.article_id}  (score {hit.score:.3f})")
        typer.echo("   " + " ".join(hit.excerpt.split())[:400] + "\n")


def articles(
    since: Since = None,
    until: Until = None,
    source: Source = None,
    limit: Annotated[int | None, typer.Option(help="At most this many, newest first.", min=1)] = None,
    viewer: Viewer = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """List stored articles, newest first."""
    with open_engine(data_dir) as engine:
        found = engine.articles(since=since, until=until, sources=source, limit=limit, viewer=viewer)
    if as_json:
        emit(
            [
                {"id": a.id, "title": a.title, "source": a.source, "url": a.url, "published": a.published}
                for a in found
            ]
        )
        return
    for a in found:
        typer.echo(f"{a.id}  {a.published or 'undated':10}  {a.source or '-':20.20}  {a.title}")


def show(
    article_id: Annotated[str, article_id_argument("An article id (see `newsbot articles`).")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Show one article with its body."""
    with open_engine(data_dir) as engine:
        article = engine.article(article_id)
    if article is None:
        typer.echo(f"no article with id {article_id}", err=True)
        raise typer.Exit(1)
    data = {
        "id": article.id, "title": article.title, "source": article.source, "url": article.url,
        "published": article.published, "author": article.author, "title_derived": article.title_derived,
        "duplicate_of": article.duplicate_of, "ingested_at": article.ingested_at, "body": article.body,
    }  # fmt: skip
    if as_json:
        emit(data)
        return
    typer.echo(
        f"{article.title}\n{article.source or ''} {article.published or 'undated'} {article.url or ''}\n"
    )
    typer.echo(article.body)


def stats(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Counts of articles, passages and vectors, the model and when the index was built."""
    with open_engine(data_dir) as engine:
        data = engine.stats()
    if as_json:
        emit(data)
        return
    for key, value in data.items():
        typer.echo(f"{key:16} {value}")


def remove(
    article_id: Annotated[str, article_id_argument("The id of the article to remove.")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Remove an article from the store and the index."""
    with open_engine(data_dir) as engine:
        removed = engine.remove(article_id)
    if as_json:
        emit({"removed": removed, "id": article_id})
    else:
        typer.echo(f"removed {article_id}" if removed else f"no article with id {article_id}")
    raise typer.Exit(0 if removed else 1)


def reindex(
    full: Annotated[bool, typer.Option("--full", help="Re-chunk and re-embed everything.")] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Rebuild the vector index from SQLite (after changing the model or chunk settings)."""
    with open_engine(data_dir) as engine:
        bar = Bar()
        try:
            report = engine.reindex(full=full, progress=bar)
        finally:
            bar.close()
    data = {"chunks": report.chunks, "embedded": report.embedded, "reused": report.reused,
            "seconds": round(report.seconds, 3)}  # fmt: skip
    if as_json:
        emit(data)
    else:
        typer.echo(f"indexed {report.chunks} passages ({report.embedded} embedded, {report.reused} reused) "
                   f"in {report.seconds:.1f} s")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command()(articles)
    app.command()(show)
    app.command()(stats)
    app.command()(remove)
    app.command()(reindex)
