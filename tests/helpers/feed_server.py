"""Feeds served from 127.0.0.1 that change between polls: entries added, changed and removed, ETag and
Last-Modified answered with 304, and failures (500, 429 with Retry-After, slow answers) on demand."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from tests.helpers.local_http import LocalServer, Response

LAST_MODIFIED = format_datetime(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), usegmt=True)


@dataclass
class Entry:
    slug: str
    title: str
    body: str
    published: str = "Tue, 01 Dec 2026 08:00:00 GMT"


@dataclass
class Feed:
    """One feed at `path` of a LocalServer. Change `entries` between polls; set `fail` to a Response to
    answer with it instead (a 500, a 429, a slow answer)."""

    server: LocalServer
    path: str
    title: str
    entries: list[Entry] = field(default_factory=list)
    fail: Response | None = None
    conditional: bool = True  # answer If-None-Match / If-Modified-Since with 304
    served: int = 0  # full answers (200 with the feed)
    not_modified: int = 0

    def __post_init__(self) -> None:
        self.server.routes[self.path] = self.answer

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def link(self, entry: Entry) -> str:
        return self.server.url(f"/story/{entry.slug}")

    def body(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(e.title)}</title><link>{escape(self.link(e))}</link>"
            f"<guid>{escape(self.link(e))}</guid><pubDate>{e.published}</pubDate>"
            f"<description>{escape(e.body)}</description></item>"
            for e in self.entries
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(self.title)}'
            f"</title><link>{self.server.base}</link>{items}</channel></rss>"
        ).encode()

    def answer(self, headers: dict[str, str]) -> Response:
        if self.fail is not None:
            return self.fail
        body = self.body()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.conditional and headers.get("if-none-match") == etag:
            self.not_modified += 1
            return Response(b"", status=304, content_type=None, headers={"ETag": etag})
        self.served += 1
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED} if self.conditional else {}
        return Response(body, content_type="application/rss+xml; charset=utf-8", headers=validators)


_WORDS: list[str] = []


def text(seed: int, words: int = 90) -> str:
    """An article text of its own for each seed (words of the bundled news drawn at random): distinct
    enough never to be taken for another's near-duplicate, long enough not to be taken for a teaser."""
    if not _WORDS:
        news = Path(__file__).resolve().parents[2] / "news" / "articles.jsonl"
        found = re.findall(r"[a-z]{4,}", news.read_text().lower())
        _WORDS.extend(sorted(set(found)))
    rng = random.Random(seed)
    picked = [rng.choice(_WORDS) for _ in range(words)]
    sentences = [" ".join(picked[i : i + 12]) for i in range(0, len(picked), 12)]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)
