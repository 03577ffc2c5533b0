"""Finding a feed from what a member pastes: a feed URL as is, or a web page that advertises its feed
with `<link rel="alternate" type="application/rss+xml|atom+xml" href=...>` (the convention browsers and
feed readers follow)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from ..sources.feeds import sniff_markup
from ..sources.fetch import FetchedPage, Fetcher, FetchError
from .records import FeedError

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+xml"})
_FEED_MIMES = FEED_TYPES | {"application/xml", "text/xml", "application/rdf+xml"}


class NoFeedFound(FeedError):
    """The URL is a page that is not a feed and advertises none."""


@dataclass(frozen=True)
class Found:
    url: str  # the feed's own URL
    page: FetchedPage  # the feed as fetched (its first poll reuses it)
    discovered_from: str | None  # the web page that named it, if any


def is_feed(page: FetchedPage) -> bool:
    kind = sniff_markup(page.body)
    return kind == "feed" or (kind is None and page.mime_type in _FEED_MIMES)


def advertised_feeds(page: FetchedPage) -> list[str]:
    """The feed URLs a page's <link rel="alternate"> elements name, absolute, in page order."""
    parser = _LinkParser()
    try:
        parser.feed(page.body.decode(page.charset or "utf-8", errors="replace"))
    except Exception:  # a page too broken to read names no feed
        return []
    return list(dict.fromkeys(urljoin(page.url, href) for href in parser.hrefs))


def find_feed(fetcher: Fetcher, url: str) -> Found:
    """The feed at `url`, or the one the page at `url` advertises; FeedError (NoFeedFound) otherwise."""
    page = _get(fetcher, url)
    if is_feed(page):
        return Found(url, page, None)
    if sniff_markup(page.body) != "html" and "html" not in page.mime_type:
        raise NoFeedFound(
            f"no feed found at {url}: it is {page.mime_type or 'untyped'}, not RSS, Atom or HTML"
        )
    problems = []
    for link in advertised_feeds(page)[:3]:
        try:
            linked = _get(fetcher, link)
        except FeedError as error:
            problems.append(str(error))
            continue
        if is_feed(linked):
            return Found(link, linked, url)
        problems.append(f"{link} is not a feed")
    if problems:
        raise NoFeedFound(f"no feed found at {url}: the feed it advertises cannot be used ({problems[0]})")
    raise NoFeedFound(
        f"no feed found at {url}: the page is not RSS or Atom and advertises no feed "
        '(<link rel="alternate" type="application/rss+xml">)'
    )


def _get(fetcher: Fetcher, url: str) -> FetchedPage:
    try:
        page = fetcher.fetch(url)
    except FetchError as error:
        raise FeedError(f"cannot fetch {url}: {error.reason}") from None
    if not page.body.strip():
        raise NoFeedFound(f"no feed found at {url}: the response is empty")
    return page


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").split(";")[0].strip().lower()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href", "").strip():
            self.hrefs.append(values["href"].strip())
