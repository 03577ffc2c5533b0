"""What the store reads and writes: rows as small frozen dataclasses, search filters, and the
snapshot an impact index is built from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..models import Article
from ..scopes import visible_scopes
from .select import placeholders


class Conflict(RuntimeError):
    """Another writer changed what an article write was decided on (its URL's or text's article)."""


@dataclass(frozen=True)
class Changes:
    """A page of the change log after a position: the passages touched, as they stand now."""

    seq: int  # the page's last position (the position asked for when the page is empty)
    removed: np.ndarray  # touched passages that no longer exist
    added: list[tuple[int, str]]  # (chunk id, embed key) of those that do
    more: bool = False  # the log goes on after this page


@dataclass(frozen=True)
class NewChunk:
    position: int
    start: int
    end: int
    text: str
    embed_key: str


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive ISO dates), outlet names and viewer (index/scopes.py: whose news may be
    shown); None means no restriction. `active` counts the date and outlet filters only: a viewer hides
    a small part of a store (other servers' own news), which reads exclude rather than list."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] | None = None
    viewer: str | None = None

    def sql(self, alias: str = "a") -> tuple[str, list]:
        clauses, params = [f"{alias}.duplicate_of IS NULL"], []
        if self.since:
            clauses.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            clauses.append(f"{alias}.published <= ?")
            params.append(self.until)
        if self.sources:
            clauses.append(f"lower({alias}.source) IN ({placeholders(self.sources)})")
            params.extend(s.lower() for s in self.sources)
        if self.viewer is not None:
            clause, more = viewer_clause(alias, self.viewer)
            clauses.append(clause)
            params.extend(more)
        return " AND ".join(clauses), params

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources)


def viewer_clause(alias: str, viewer: str | None) -> tuple[str, list]:
    """SQL: the article `alias` is one `viewer` may see (any claim of a scope it sees, or no claim)."""
    scopes = visible_scopes(viewer)
    if scopes is None:
        return "TRUE", []
    return (
        f"(EXISTS (SELECT 1 FROM article_claims vc WHERE vc.article_id = {alias}.id AND vc.scope IN "
        f"({placeholders(scopes)})) OR NOT EXISTS (SELECT 1 FROM article_claims vc WHERE vc.article_id = "
        f"{alias}.id))",
        list(scopes),
    )


ARTICLE_COLUMNS = "id, title, title_derived, source, url, published, author, body, ingested_at, duplicate_of"


def article_row(row: Sequence) -> Article:
    return Article(
        id=row[0],
        title=row[1],
        title_derived=bool(row[2]),
        source=row[3],
        url=row[4],
        published=row[5],
        author=row[6],
        body=row[7],
        ingested_at=row[8],
        duplicate_of=row[9],
    )


@dataclass(frozen=True)
class Corpus:
    """What a build reads from SQLite, as one consistent snapshot."""

    chunk_ids: np.ndarray  # int64, ascending
    lengths: np.ndarray  # tokens per passage row, all columns (FTS5's docsize)
    published: np.ndarray  # 'S10' ISO dates ('' when unknown)
    sources: np.ndarray  # int32 code into `source_names`, -1 when unknown
    source_names: list[str]
    postings: Iterator[tuple[list[str], np.ndarray, np.ndarray]]  # (terms, chunk ids, column weights)
    skipped: frozenset[str]  # terms left out of `postings` (function words)
    seq: int = 0  # the change log's position (migration m008) the snapshot reflects
