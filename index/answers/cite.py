"""Citations: numbered sources with verbatim excerpts, checked against the stored articles."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..models import Article, Citation, Point, source_labels
from .candidates import Sentence

log = logging.getLogger(__name__)

MAX_SOURCES_PER_POINT = 4
Lookup = Callable[[str], Article | None]


def verbatim(citation: Citation, lookup: Lookup) -> bool:
    """True when the excerpt is exactly the stored article's text at its offsets."""
    article = lookup(citation.article_id)
    return (
        article is not None
        and 0 <= citation.start < citation.end <= len(article.body)
        and article.body[citation.start : citation.end] == citation.excerpt
    )


def citation_for(n: int, s: Sentence, also: Sequence[str] = ()) -> Citation:
    return Citation(
        n=n,
        article_id=s.article_id,
        title=s.title,
        source=s.source,
        url=s.url,
        published=s.published,
        excerpt=s.text,
        start=s.start,
        end=s.end,
        also_reported_by=tuple(also),
    )


def display(text: str) -> str:
    """A sentence on one line (the excerpt keeps the article's exact whitespace)."""
    return " ".join(text.split())


def number(
    groups: Sequence[Sequence[Sentence]], lookup: Lookup, *, headings: Sequence[str | None] = ()
) -> tuple[tuple[Point, ...], tuple[Citation, ...]]:
    """Points from groups of sentences (the first is the point's text, the rest further sources).

    Citations are numbered from 1 in order of first use; a sentence quoted twice keeps one number;
    an excerpt that is not verbatim in its article is dropped, and a point left without sources too.
    """
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    points: list[Point] = []
    for i, group in enumerate(groups):
        cited: list[tuple[int, Sentence]] = []
        for s in list(group)[:MAX_SOURCES_PER_POINT]:
            if s.key not in numbers:
                citation = citation_for(len(citations) + 1, s, s.also_reported_by)
                if not verbatim(citation, lookup):
                    log.warning("dropped a non-verbatim excerpt of %s at %d:%d", s.article_id, s.start, s.end)
                    continue
                numbers[s.key] = citation.n
                citations.append(citation)
            if all(numbers[s.key] != n for n, _ in cited):
                cited.append((numbers[s.key], s))
        if cited:
            heading = headings[i] if i < len(headings) else None
            points.append(Point(display(cited[0][1].text), tuple(n for n, _ in cited), heading))
    return tuple(points), tuple(citations)


def consistent(
    points: Sequence[Point], citations: Sequence[Citation]
) -> tuple[tuple[Point, ...], tuple[Citation, ...]]:
    """Keep only cited citations and valid references, renumbered 1..N in order of first use."""
    by_n = {c.n: c for c in citations}
    mapping: dict[int, int] = {}
    kept_points = []
    for p in points:
        refs = [n for n in dict.fromkeys(p.citations) if n in by_n]
        if not refs:
            continue
        for n in refs:
            mapping.setdefault(n, len(mapping) + 1)
        kept_points.append(Point(p.text, tuple(mapping[n] for n in refs), p.heading))
    kept = [replace(by_n[old], n=new) for old, new in sorted(mapping.items(), key=lambda kv: kv[1])]
    return tuple(kept_points), tuple(kept)


def markers(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def render(points: Sequence[Point]) -> str:
    """One point a line, each followed by its citation markers."""
    return "\n".join(f"{p.text} {markers(p.citations)}" for p in points)


def check(points: Sequence[Point], citations: Sequence[Citation], lookup: Lookup) -> None:
    """Raise if an answer breaks the citation contract (a bug, never expected at run time)."""
    numbers = [c.n for c in citations]
    if numbers != list(range(1, len(citations) + 1)):
        raise AssertionError(f"citation numbers are not 1..N: {numbers}")
    used = {n for p in points for n in p.citations}
    if used != set(numbers):
        raise AssertionError(f"cited {sorted(used)} but listed {numbers}")
    bad = [c.n for c in citations if not verbatim(c, lookup)]
    if bad:
        raise AssertionError(f"excerpts not verbatim: {bad}")


# -- sources grouped by article ----------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")


def relabel(text: str, citations: Sequence[Citation]) -> str:
    """The text with each [n] marker of a listed citation shown by its label ([1a], [1b], [2]): what a
    member reads, where sources are grouped by article (the JSON keeps the numbers)."""
    labels = source_labels(citations)

    def label(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{labels[n][1]}]" if n in labels else match.group()

    return _MARKER.sub(label, text)


def labelled(numbers: Sequence[int], citations: Sequence[Citation]) -> str:
    """A point's citation markers by label: "[1a][2]"."""
    labels = source_labels(citations)
    return "".join(f"[{labels[n][1]}]" if n in labels else f"[{n}]" for n in numbers)


def by_article(citations: Sequence[Citation]) -> list[tuple[str, list[tuple[str, Citation]]]]:
    """One source entry per article, in the order of their numbers: (article number, its excerpts as
    (label, citation) in citation order)."""
    labels = source_labels(citations)
    groups: dict[int, list[tuple[str, Citation]]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        index, label = labels[c.n]
        groups.setdefault(index, []).append((label, c))
    return [(str(index), items) for index, items in groups.items()]


def outlets(numbers: Sequence[int], citations: Sequence[Citation]) -> list[str]:
    """The outlets that carried a point: its citations' and the copies' that hold its excerpts."""
    by_n = {c.n: c for c in citations}
    found = [o for n in numbers if n in by_n for o in (by_n[n].source, *by_n[n].also_reported_by) if o]
    return list(dict.fromkeys(found))


def carried(numbers: Sequence[int], citations: Sequence[Citation]) -> str:
    """ " (3 outlets)" after a summary point that several outlets carried, else ""."""
    count = len(outlets(numbers, citations))
    return f" ({count} outlets)" if count > 1 else ""
