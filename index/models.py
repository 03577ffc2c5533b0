"""Small frozen records passed between the engine's parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArticleDraft:
    """An article as a source parser found it, before it is stored.

    `published` is an ISO date (YYYY-MM-DD) or None when the source does not say: never guessed.
    `origin` names where it came from (a file path, a URL, "feed.xml#3") for reports.
    `fetched_from` is the URL (after redirects) of the response that carried the text, None when it
    was read from a file; `feed` is the feed or JSON list it was an entry of, as given. Both decide
    whether the draft may replace an article stored from another source (index/ingest.py).
    """

    body: str
    origin: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None
    fetched_from: str | None = None
    feed: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A source item that could not be read, and why (a sentence a person can act on).

    `kind` is a FetchError kind when fetching failed ("refused-address", "timeout", ...): what may be
    shown to people who should not see the reason's addresses and ports."""

    source: str
    reason: str
    kind: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    title_derived: bool
    source: str | None
    url: str | None
    published: str | None
    author: str | None
    body: str
    ingested_at: str
    duplicate_of: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A passage of an article body: `text == body[start:end]`."""

    id: int
    article_id: str
    position: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, kw_only=True)
class QuotedPassage:
    """A passage of an article quoted verbatim (`excerpt == article.body[start:end]`) with the article's
    citation data: what search hits and answer citations share, given by name."""

    article_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    excerpt: str
    start: int
    end: int
    also_reported_by: tuple[str, ...] = ()

    def quoted_json(self) -> dict:
        """The JSON fields of the passage and its article (the outlets that also reported it are not)."""
        return {name: getattr(self, name) for name in _PASSAGE_FIELDS}


_PASSAGE_FIELDS = ("article_id", "title", "source", "url", "published", "excerpt", "start", "end")


@dataclass(frozen=True)
class Hit(QuotedPassage):
    """A passage found by search: `Hit(chunk_id, score, article_id=..., ...)`."""

    chunk_id: int
    score: float

    def to_json(self) -> dict:
        return {**self.quoted_json(), "score": round(self.score, 6)}


@dataclass(frozen=True)
class Stored:
    """One ingested article: its id, its story's main article, and added | updated | duplicate."""

    article_id: str
    story_id: str
    kind: str


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    duplicates: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    stored: list[Stored] = field(default_factory=list)  # what each stored draft became (not in JSON)

    @property
    def failed(self) -> bool:
        return bool(self.skipped)

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
        }


@dataclass(frozen=True)
class Citation(QuotedPassage):
    """A numbered source of an answer, its excerpt checked against the article before returning:
    `Citation(n, article_id=..., ...)`."""

    n: int

    def to_json(self) -> dict:
        return {"n": self.n, **self.quoted_json()}


@dataclass(frozen=True)
class Point:
    """One sentence of an answer or summary, with the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]
    heading: str | None = None  # a period digest's story headline, on the first point of each story


@dataclass(frozen=True)
class Answer:
    """What a member reads: quoted points, each cited, or an honest abstention.

    `text` is the rendered answer (points followed by their [n] markers); `related` lists the closest
    articles when the answer abstains.
    """

    question: str
    text: str
    abstained: bool
    points: tuple[Point, ...] = ()
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = ()

    def to_json(self) -> dict:
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": citations_json(self.citations),
        }


@dataclass(frozen=True)
class Summary:
    """Key points of an article, a topic or a period, each cited."""

    kind: str  # "article" | "topic" | "period"
    title: str
    points: tuple[Point, ...]
    citations: tuple[Citation, ...]

    def to_json(self) -> dict:
        return {
            "points": [_point_json(p) for p in self.points],
            "citations": citations_json(self.citations),
        }


def source_labels(citations: Sequence[Citation]) -> dict[int, tuple[int, str]]:
    """Citation number -> (its article's number, its label). Articles are numbered 1.. in order of
    their first citation; an article quoted once is labelled by its number ("2"), one quoted several
    times gives each excerpt a letter in citation order ("1a", "1b"), so a reader sees which excerpts
    come from one article while each claim still points at its own excerpt."""
    articles: dict[str, list[int]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        articles.setdefault(c.article_id, []).append(c.n)
    found = {}
    for index, numbers in enumerate(articles.values(), start=1):
        for i, n in enumerate(numbers):
            found[n] = (index, str(index) if len(numbers) == 1 else f"{index}{_letter(i)}")
    return found


def _letter(i: int) -> str:
    return chr(ord("a") + i) if i < 26 else f"-{i + 1}"


def citations_json(citations: Sequence[Citation]) -> list[dict]:
    """One object per excerpt (the contract), with its article's number and its label as extra keys."""
    labels = source_labels(citations)
    return [{**c.to_json(), "article_index": labels[c.n][0], "label": labels[c.n][1]} for c in citations]


def _point_json(p: Point) -> dict:
    data: dict = {"text": p.text, "citations": list(p.citations)}
    if p.heading:
        data["heading"] = p.heading
    return data
