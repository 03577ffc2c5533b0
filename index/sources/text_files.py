"""Plain-text (.txt) and Markdown (.md) articles."""

from __future__ import annotations

import logging
import re

from index.models import ArticleDraft, Skipped
from index.sources.cleaning import clean_inline, normalise_text
from index.sources.dates import normalise_date

log = logging.getLogger(__name__)

# " date 2025-03-28 The U.S. president..." — the header may share its line with the body.
_DATE_HEADER = re.compile(r"\A\s*date\s*:?\s+(\d{4}-\d{2}-\d{2})(?=\s|\Z)\s*", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_LIST_ITEM = re.compile(r"^\s+-\s+(.*)$|^-\s+(.*)$")

_FIELDS = {
    "title": "title",
    "headline": "title",
    "source": "source",
    "outlet": "source",
    "site": "source",
    "publisher": "source",
    "url": "url",
    "link": "url",
    "canonical_url": "url",
    "date": "published",
    "published": "published",
    "published_at": "published",
    "pubdate": "published",
    "author": "author",
    "authors": "author",
    "byline": "author",
}


def parse_txt(text: str, origin: str) -> ArticleDraft | Skipped:
    """A plain-text article, with an optional leading ` date YYYY-MM-DD ` header."""
    published, body = split_date_header(text)
    body = normalise_text(body)
    if not body:
        return Skipped(origin, "no article text in file")
    return ArticleDraft(body=body, origin=origin, published=published)


def split_date_header(text: str) -> tuple[str | None, str]:
    """Split a leading ` date YYYY-MM-DD ` header off `text`: (ISO date or None, rest)."""
    match = _DATE_HEADER.match(text)
    if not match:
        return None, text
    published = normalise_date(match.group(1))
    if published is None:
        log.warning("ignoring impossible date %r in header", match.group(1))
    return published, text[match.end() :]


def parse_markdown(text: str, origin: str) -> ArticleDraft | Skipped:
    """A Markdown article with optional `---` front matter (title, source, url, date, author)."""
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if match:
        meta = _parse_front_matter(match.group(1))
        body = text.replace("\r\n", "\n")[match.end() :]
        published = normalise_date(meta.get("published"))
        if meta.get("published") and published is None:
            log.warning("%s: unrecognised date %r in front matter", origin, meta["published"])
    else:
        published, body = split_date_header(text)
    body = normalise_text(body)
    if not body:
        return Skipped(
            origin, "no article text after the front matter" if match else "no article text in file"
        )
    return ArticleDraft(
        body=body,
        origin=origin,
        title=clean_inline(meta.get("title")),
        source=clean_inline(meta.get("source")),
        url=clean_inline(meta.get("url")),
        published=published,
        author=clean_inline(meta.get("author")),
    )


def _parse_front_matter(block: str) -> dict[str, str]:
    """Read simple YAML `key: value` lines (plus `[a, b]` and `- item` lists) into known fields."""
    raw: dict[str, list[str]] = {}
    current: str | None = None
    for line in block.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item and current is not None:
            raw[current].append(_unquote(item.group(1) or item.group(2)))
            continue
        nested = _KEY_VALUE.match(line.strip()) if line[:1].isspace() else None
        if nested and current is not None and not raw[current] and nested.group(1).lower() == "name":
            raw[current].append(_unquote(nested.group(2)))  # source:\n  name: The Outlet
            continue
        pair = _KEY_VALUE.match(line)
        if not pair:
            current = None
            continue
        key = pair.group(1).lower()
        value = pair.group(2).strip()
        current = key
        if value.startswith("[") and value.endswith("]"):
            raw[key] = [_unquote(part) for part in value[1:-1].split(",") if part.strip()]
        else:
            raw[key] = [_unquote(value)] if value else []
    meta: dict[str, str] = {}
    for key, values in raw.items():
        field = _FIELDS.get(key)
        values = [value for value in values if value]
        if field and values and field not in meta:
            meta[field] = ", ".join(values)
    return meta


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
