"""RSS 0.9x/1.0/2.0 and Atom feeds: one article per entry, teasers completed from the linked page."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from html.entities import name2codepoint

import feedparser

from index.models import ArticleDraft, Skipped
from index.sources.cleaning import bom_encoding, clean_inline, normalise_text
from index.sources.dates import normalise_date
from index.sources.fetch import FetchedPage, Fetcher, FetchError
from index.sources.html import decode_html, extract_article, html_to_text

log = logging.getLogger(__name__)

TEASER_CHARS = 400
_TEASER_END = re.compile(
    r"(…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\]|read more|continue reading|read the full (?:story|article)"
    r"|more\s*»)[\s\W]*\Z",
    re.IGNORECASE,
)
_PROLOG = re.compile(
    r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.DOTALL | re.IGNORECASE
)
_FIRST_TAG = re.compile(r"\A<([A-Za-z_][\w.:-]*)")
_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
_AMPERSAND = re.compile(rb"&(?:(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)?")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_REPAIRABLE = re.compile(r"not well-formed|undefined entity|invalid token", re.IGNORECASE)
_SAX_LOCATION = re.compile(r"\A<[^>]*>:(\d+):(\d+): (.*)\Z", re.DOTALL)
_EMAIL_AND_NAME = re.compile(r"\A\s*[^\s@()]+@[^\s@()]+\s*\((.+)\)\s*\Z")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
_HTML_ROOTS = frozenset({"html", "head", "body"})


def sniff_markup(data: bytes) -> str | None:
    """'feed' or 'html' from the first element of the document (skipping the prolog), else None."""
    encoding = bom_encoding(data)
    head = data[:4096].decode(encoding or "latin-1", errors="ignore")
    previous = None
    while head != previous:
        previous = head
        head = _PROLOG.sub("", head, count=1)
    match = _FIRST_TAG.match(head)
    if not match:
        return None
    name = match.group(1).rsplit(":", 1)[-1].lower()
    if name in _FEED_ROOTS:
        return "feed"
    if name in _HTML_ROOTS:
        return "html"
    return None


def parse_feed(
    data: bytes,
    origin: str,
    *,
    base_url: str | None = None,
    content_type: str | None = None,
    fetcher: Fetcher | None = None,
    fetch_linked: bool = True,
    max_entries: int = 500,
    max_linked: int = 30,
) -> Iterator[ArticleDraft | Skipped]:
    """Yield one ArticleDraft per entry (or a Skipped per unusable entry, or one for a broken feed).

    With a `fetcher`, teasers are completed from their linked pages: at most `max_linked` per feed,
    fetched a few at a time (Fetcher.fetch_each). Entries past `max_entries` are reported, not read."""
    headers = {}
    if base_url:
        headers["content-location"] = base_url
    if content_type and "charset" in content_type.lower():
        headers["content-type"] = content_type  # otherwise the XML declaration decides the encoding
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers or None)
    if parsed.get("bozo") and _REPAIRABLE.search(str(parsed.get("bozo_exception"))):
        repaired = feedparser.parse(io.BytesIO(repair_xml(data)), response_headers=headers or None)
        if not repaired.get("bozo") or len(repaired.get("entries") or []) >= len(parsed.get("entries") or []):
            log.info("%s: read the feed after escaping stray '&' and HTML entities", origin)
            parsed = repaired
    entries = parsed.get("entries") or []
    if not entries:
        yield Skipped(origin, _why_no_entries(parsed, data))
        return
    if parsed.get("bozo"):
        log.warning(
            "%s: malformed feed, reading its %d entries anyway: %s",
            origin,
            len(entries),
            parsed.get("bozo_exception"),
        )
    feed_title = clean_inline(parsed.feed.get("title"))
    drafts: list[ArticleDraft | Skipped] = []
    for number, entry in enumerate(entries[:max_entries], start=1):
        entry_origin = f"{origin}#{number}"
        try:
            drafts.append(_entry_to_draft(entry, entry_origin, feed_title, origin))
        except Exception as error:  # one odd entry must not lose the rest of the feed
            log.exception("%s: could not read feed entry", entry_origin)
            drafts.append(
                Skipped(entry_origin, f"could not read feed entry ({type(error).__name__}: {error})")
            )
    yield from complete_teasers(drafts, fetcher if fetch_linked else None, origin, max_linked)
    if len(entries) > max_entries:
        yield Skipped(
            origin,
            f"feed has {len(entries)} entries: read the first {max_entries} "
            "(the cap is NEWSBOT_FEED_MAX_ENTRIES)",
        )


def complete_teasers(
    drafts: list[ArticleDraft | Skipped], fetcher: Fetcher | None, origin: str, max_linked: int
) -> list[ArticleDraft | Skipped]:
    """Each teaser completed from its linked page (up to `max_linked` pages; none without a fetcher).
    Separate from parse_feed so a poller reads a feed first and fetches pages only for its new entries."""
    pages = _fetch_linked(fetcher, drafts, origin, max_linked)
    return [_completed(draft, pages) if isinstance(draft, ArticleDraft) else draft for draft in drafts]


def repair_xml(data: bytes) -> bytes:
    """Escape what real-world feeds get wrong: bare '&' and HTML-only entities (&nbsp;, &eacute;).

    CDATA sections are left alone (a bare '&' is legal there). UTF-16/32 feeds are returned unchanged.
    """
    if bom_encoding(data) not in (None, "utf-8-sig"):
        return data
    pieces = _CDATA.split(data)
    for index in range(0, len(pieces), 2):  # even pieces are outside CDATA
        pieces[index] = _AMPERSAND.sub(_fix_reference, pieces[index])
    return b"".join(pieces)


def _fix_reference(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    if name is None:
        return b"&amp;"
    text = name.decode("ascii")
    if text.startswith("#") or text in _XML_ENTITIES:
        return match.group(0)
    codepoint = name2codepoint.get(text)
    return f"&#{codepoint};".encode() if codepoint else b"&amp;" + name + b";"


def _why_no_entries(parsed: feedparser.FeedParserDict, data: bytes) -> str:
    kind = sniff_markup(data)
    if kind == "html":
        return "not a feed: got an HTML page instead of RSS or Atom"
    if parsed.get("bozo") and kind != "feed":
        return f"not an RSS or Atom feed ({_describe(parsed.get('bozo_exception'))})"
    if parsed.get("bozo"):
        return f"broken feed with no readable entries ({_describe(parsed.get('bozo_exception'))})"
    if not parsed.get("version"):
        return "not an RSS or Atom feed (no channel or feed element found)"
    return "feed has no entries"


def _describe(error: object) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip()
    located = _SAX_LOCATION.match(text)
    if located:
        return f"{located.group(3)} at line {located.group(1)}, column {located.group(2)}"
    return text or type(error).__name__


def _entry_to_draft(
    entry: feedparser.FeedParserDict, origin: str, feed_title: str | None, feed: str
) -> ArticleDraft:
    """The entry as the feed gives it (its body may be empty or a teaser: see _completed)."""
    entry_source = entry.get("source") or {}
    return ArticleDraft(
        body=_entry_text(entry),
        origin=origin,
        title=_entry_title(entry),
        source=clean_inline(entry_source.get("title")) or feed_title,
        url=clean_inline(entry.get("link")),
        published=_entry_date(entry),
        author=_entry_author(entry),
        feed=feed,
    )


def is_teaser(text: str) -> bool:
    """Whether an entry's text looks like a teaser rather than the whole article."""
    return len(text) < TEASER_CHARS or bool(_TEASER_END.search(text))


def _fetch_linked(
    fetcher: Fetcher | None, drafts: list[ArticleDraft | Skipped], origin: str, cap: int
) -> dict[str, ArticleDraft | str]:
    """The linked page of each teaser (up to `cap`) as an article, or a note on why not."""
    if fetcher is None:
        return {}
    links = list(
        dict.fromkeys(d.url for d in drafts if isinstance(d, ArticleDraft) and d.url and is_teaser(d.body))
    )
    if len(links) > cap:
        log.warning(
            "%s: %d teasers link to a page; fetching the first %d (NEWSBOT_FEED_MAX_LINKED), "
            "keeping the feed's text for the rest",
            origin,
            len(links),
            cap,
        )
        links = links[:cap]
    fetched = fetcher.fetch_each(links, then=_linked_article)
    return {
        link: f" and its linked page could not be fetched: {page.reason}"
        if isinstance(page, FetchError)
        else page
        for link, page in fetched.items()
    }


def _linked_article(page: FetchedPage) -> ArticleDraft | str:
    kind = sniff_markup(page.body)
    if not (kind == "html" or (kind != "feed" and ("html" in page.mime_type or not page.mime_type))):
        log.warning("linked page %s is %s, not HTML", page.url, page.mime_type or "untyped")
        return f" and its linked page is not HTML ({page.mime_type})"
    result = extract_article(decode_html(page.body, page.charset), page.url, url=page.url)
    if isinstance(result, Skipped):
        log.info("linked page %s: %s", page.url, result.reason)
        return f" and its linked page had none either ({result.reason})"
    return result


def _completed(draft: ArticleDraft, pages: dict[str, ArticleDraft | str]) -> ArticleDraft | Skipped:
    """The entry with its linked page's text when that is longer; a Skipped if it has no text at all."""
    page = pages.get(draft.url or "")
    if isinstance(page, ArticleDraft) and len(page.body) > len(draft.body):
        draft = replace(
            draft,
            body=page.body,
            title=page.title or draft.title,
            url=page.url or draft.url,
            published=page.published or draft.published,
            author=page.author or draft.author,
            source=draft.source or page.source,
            fetched_from=page.fetched_from,
        )
    elif isinstance(page, str):
        log.warning("%s: keeping the feed text for %s%s", draft.origin, draft.url, page)
    if not draft.body:
        named = f"entry '{draft.title}'" if draft.title else "entry"
        note = page if isinstance(page, str) else ""
        return Skipped(draft.origin, f"feed {named} has no text (no content or summary){note}")
    return draft


def _entry_title(entry: feedparser.FeedParserDict) -> str | None:
    title = entry.get("title")
    if not title:
        return None
    detail = entry.get("title_detail") or {}
    if "html" in (detail.get("type") or "") and "<" in title:
        title = html_to_text(title)
    return clean_inline(title)


def _entry_text(entry: feedparser.FeedParserDict) -> str:
    """The entry's full content if it has some, else its summary, as plain text."""
    candidates = []
    for content in entry.get("content") or []:
        candidates.append(_as_text(content.get("value"), content.get("type")))
    best = max(candidates, key=len, default="")
    if best:
        return best
    detail = entry.get("summary_detail") or {}
    return _as_text(entry.get("summary"), detail.get("type"))


def _as_text(value: str | None, kind: str | None) -> str:
    if not value:
        return ""
    if kind == "text/plain":
        return normalise_text(value)
    return html_to_text(value)


def _entry_date(entry: feedparser.FeedParserDict) -> str | None:
    """The date as the feed writes it (in its own time zone), falling back to feedparser's UTC parse."""
    for key in ("published", "updated", "created"):
        day = normalise_date(entry.get(key))
        if day:
            return day
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        day = normalise_date(entry.get(key))
        if day:
            return day
    return None


def _entry_author(entry: feedparser.FeedParserDict) -> str | None:
    raw = entry.get("author") or ""
    email_and_name = _EMAIL_AND_NAME.match(raw)  # RSS 2.0: "desk@paper.example (Jane Doe)"
    if email_and_name:
        return clean_inline(email_and_name.group(1))
    detail = entry.get("author_detail") or {}
    name = clean_inline(detail.get("name"))
    if name:
        return name
    authors = [clean_inline(author.get("name")) for author in entry.get("authors") or []]
    return ", ".join(name for name in authors if name) or clean_inline(entry.get("author"))
