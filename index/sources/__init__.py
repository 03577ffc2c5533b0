"""Reading news articles from files, folders, web pages and feeds: the parsers' single entry point.

`read_sources` yields an `ArticleDraft` per article found and a `Skipped` (with a reason a person can act
on) per item that could not be read; it never raises, and one bad item never stops the batch.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from index.models import ArticleDraft, Skipped
from index.sources.cleaning import Unreadable, bom_encoding, check_not_binary, decode_text
from index.sources.feeds import parse_feed, sniff_markup
from index.sources.fetch import FetchedPage, Fetcher, FetchError
from index.sources.html import decode_html, extract_article
from index.sources.records import parse_json, parse_jsonl, read_jsonl
from index.sources.text_files import parse_markdown, parse_txt

__all__ = ["FetchError", "FetchedPage", "Fetcher", "read_sources"]

log = logging.getLogger(__name__)

FILE_KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".rdf": "feed",
}
_MIME_KINDS = {
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/rdf+xml": "feed",
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
}
_XML_MIMES = frozenset({"application/xml", "text/xml"})
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A JSON Lines file is streamed record by record (each within max_bytes); this bounds the whole file.
RECORDS_FILE_LIMIT = 2_000_000_000
_SNIFF = 8192
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_sources(
    sources: Iterable[str],
    *,
    fetcher: Fetcher | None = None,
    fetch_linked: bool = True,
    max_bytes: int = 5_000_000,
    max_entries: int = 500,
    max_linked: int = 30,
) -> Iterator[ArticleDraft | Skipped]:
    """Yield the articles in each source: a file, a folder (recursive), an http(s) URL, or a feed.

    Only URL sources cause network traffic: the URL itself and, for a feed fetched from the web, the
    pages its teasers link to (`fetch_linked`, at most `max_linked` per feed). Local files, feed files
    included, never do. Without a `fetcher`, a default one is made (public addresses only) and closed
    at the end. A feed's entries past `max_entries` are reported as skipped.
    """
    reader = _Reader(fetcher, fetch_linked, max_bytes, max_entries, max_linked)
    try:
        for source in sources:
            yield from reader.read(source)
    finally:
        reader.close()


class _Reader:
    def __init__(
        self, fetcher: Fetcher | None, fetch_linked: bool, max_bytes: int, max_entries: int, max_linked: int
    ) -> None:
        self._explicit_fetcher = fetcher
        self._default_fetcher: Fetcher | None = None
        self.fetch_linked = fetch_linked
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_linked = max_linked

    def close(self) -> None:
        if self._default_fetcher is not None:
            self._default_fetcher.close()

    def read(self, source: str) -> Iterator[ArticleDraft | Skipped]:
        name = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
        yield from self._guarded(name, self._read(name))

    def _guarded(
        self, origin: str, items: Iterator[ArticleDraft | Skipped]
    ) -> Iterator[ArticleDraft | Skipped]:
        """Pass `items` through; turn a crash into a Skipped so the batch goes on."""
        try:
            yield from items
        except Exception as error:
            log.exception("unexpected error while reading %s", origin)
            yield Skipped(origin, f"unexpected error while reading ({type(error).__name__}: {error})")

    def _read(self, source: str) -> Iterator[ArticleDraft | Skipped]:
        if not source.strip():
            yield Skipped(source, "empty source name")
        elif _URL_LIKE.match(source.strip()):
            yield from self._read_url(source.strip())
        else:
            yield from self._read_path(Path(source).expanduser(), source)

    # -- files and folders ----------------------------------------------------------------------

    def _read_path(self, path: Path, source: str) -> Iterator[ArticleDraft | Skipped]:
        if path.is_dir():
            found = False
            for file in _walk(path):
                found = True
                yield from self._guarded(_named(str(file)), self._read_file(file, _named(str(file))))
            if not found:
                yield Skipped(_named(source), "folder holds no files")
        elif path.exists():
            yield from self._read_file(path, _named(source))
        else:
            yield Skipped(_named(source), "no such file or folder")

    def _read_file(self, path: Path, origin: str) -> Iterator[ArticleDraft | Skipped]:
        suffix = path.suffix.lower()
        kind = FILE_KINDS.get(suffix)
        if kind is None:
            yield Skipped(
                origin,
                f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)",
            )
            return
        if kind == "jsonl":
            yield from self._read_records(path, origin)
            return
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                yield Skipped(origin, f"file too large ({size} bytes, limit {self.max_bytes})")
                return
            if not path.is_file():
                yield Skipped(origin, "not a regular file")
                return
            data = path.read_bytes()
        except OSError as error:
            yield Skipped(origin, f"cannot read file ({error.strerror or error})")
            return
        yield from self._parse(kind, data, origin, from_url=False)

    def _read_records(self, path: Path, origin: str) -> Iterator[ArticleDraft | Skipped]:
        """A JSON Lines file record by record: `max_bytes` caps each record (one article, like one page)
        and RECORDS_FILE_LIMIT the file, so a bulk export of many articles is read, never held whole."""
        try:
            size = path.stat().st_size
            if size > RECORDS_FILE_LIMIT:
                yield Skipped(origin, f"file too large ({size} bytes, limit {RECORDS_FILE_LIMIT})")
                return
            if not path.is_file():
                yield Skipped(origin, "not a regular file")
                return
            with path.open("rb") as stream:
                head = stream.read(_SNIFF)
                check_not_binary(head)
                if bom_encoding(head) in (None, "utf-8-sig"):
                    stream.seek(0)
                    yield from read_jsonl(stream, origin, max_record=self.max_bytes)
                    return
            # UTF-16/32 has no byte-wise lines: such a file is read whole, within the one-page cap.
            if size > self.max_bytes:
                yield Skipped(origin, f"file too large ({size} bytes, limit {self.max_bytes})")
                return
            yield from self._parse("jsonl", path.read_bytes(), origin, from_url=False)
        except Unreadable as error:
            yield Skipped(origin, error.reason)
        except OSError as error:
            yield Skipped(origin, f"cannot read file ({error.strerror or error})")

    # -- URLs -------------------------------------------------------------------------------------

    def _read_url(self, url: str) -> Iterator[ArticleDraft | Skipped]:
        try:
            page = self._url_fetcher().fetch(url)
        except FetchError as error:
            yield Skipped(url, error.reason, kind=error.kind)
            return
        if len(page.body) > self.max_bytes:
            yield Skipped(
                url, f"response too large ({len(page.body)} bytes, limit {self.max_bytes})", kind="too-large"
            )
            return
        if not page.body.strip():
            yield Skipped(url, "empty response")
            return
        kind = _page_kind(page)
        if kind is None:
            yield Skipped(url, f"unsupported content type {page.mime_type or '(none)'}")
            return
        for item in self._parse(kind, page.body, url, from_url=True, page=page):
            if isinstance(item, ArticleDraft):
                yield _fetched(item, page, kind, url)
            else:
                yield item

    def _url_fetcher(self) -> Fetcher:
        if self._explicit_fetcher is not None:
            return self._explicit_fetcher
        if self._default_fetcher is None:
            self._default_fetcher = Fetcher(max_bytes=self.max_bytes)
        return self._default_fetcher

    # -- formats ----------------------------------------------------------------------------------

    def _parse(
        self, kind: str, data: bytes, origin: str, *, from_url: bool, page: FetchedPage | None = None
    ) -> Iterator[ArticleDraft | Skipped]:
        charset = page.charset if page else None
        try:
            if kind == "html":
                check_not_binary(data)
                yield extract_article(decode_html(data, charset), origin, url=page.url if page else None)
            elif kind == "feed":
                check_not_binary(data)
                yield from parse_feed(
                    data,
                    origin,
                    base_url=page.url if page else None,
                    content_type=page.content_type if page else None,
                    fetcher=self._url_fetcher() if from_url else None,  # a feed file: no traffic
                    fetch_linked=self.fetch_linked,
                    max_entries=self.max_entries,
                    max_linked=self.max_linked,
                )
            else:
                text = _decode_declared(data, charset)
                if kind == "text":
                    yield parse_txt(text, origin)
                elif kind == "markdown":
                    yield parse_markdown(text, origin)
                elif kind == "json":
                    yield from parse_json(text, origin)
                else:
                    yield from parse_jsonl(text, origin)
        except Unreadable as error:
            yield Skipped(origin, error.reason)


# A folder of news may carry its own documentation; those files are not articles.
_FOLDER_DOCS = re.compile(r"^(readme|license|licence|notice|attribution|copying)(\.[\w.]+)?$", re.IGNORECASE)


def _named(path: str) -> str:
    """A file's name as text: an undecodable byte of a file name (a lone surrogate in Python) becomes
    U+FFFD, so the name can be stored and printed; the file itself is still opened by its real name."""
    return _SURROGATE.sub("\ufffd", path)


def _walk(folder: Path) -> Iterator[Path]:
    """Files under `folder`, depth first in name order, skipping hidden entries, symlinked folders and
    the folder's own README/LICENSE/NOTICE files."""
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    except OSError as error:
        log.warning("cannot list %s: %s", folder, error)
        return
    for entry in entries:
        if entry.name.startswith(".") or (entry.is_file() and _FOLDER_DOCS.match(entry.name)):
            continue
        if entry.is_dir():
            if not entry.is_symlink():
                yield from _walk(entry)
        else:
            yield entry


def _fetched(draft: ArticleDraft, page: FetchedPage, kind: str, url: str) -> ArticleDraft:
    """Where a draft read from a fetched page came from: the page (unless a linked page gave its
    text), and the feed or JSON list it was an entry of."""
    return replace(
        draft,
        url=draft.url if draft.url is not None or kind in ("json", "jsonl") else page.url,
        fetched_from=draft.fetched_from or page.url,
        feed=url if kind in ("feed", "json", "jsonl") else draft.feed,
    )


def _decode_declared(data: bytes, charset: str | None) -> str:
    """Text in the charset an HTTP server declared, else strict UTF-8 (decode_text's rules)."""
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        check_not_binary(data)
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            log.debug("declared charset %s does not fit; trying UTF-8", charset)
    return decode_text(data)


def _page_kind(page: FetchedPage) -> str | None:
    """What a fetched page holds, from its content type, its first element, then its URL's extension."""
    mime = page.mime_type
    sniffed = sniff_markup(page.body)
    if _MIME_KINDS.get(mime) == "feed" or sniffed == "feed":
        return "feed"
    if "html" in mime or sniffed == "html":
        return "html"
    if mime in _MIME_KINDS:
        return _MIME_KINDS[mime]
    if mime.endswith("+json"):
        return "json"
    by_extension = FILE_KINDS.get(PurePosixPath(urlsplit(page.url).path).suffix.lower())
    if mime == "text/plain":
        return by_extension if by_extension in ("text", "markdown", "json", "jsonl") else "text"
    if mime in _XML_MIMES:
        return "feed"  # parse_feed explains what is wrong if it is some other XML
    if mime in ("", "application/octet-stream", "binary/octet-stream"):
        return by_extension
    return None
