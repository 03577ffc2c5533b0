"""Structured article records: .json (object, list, or {"articles": [...]}) and .jsonl / .ndjson."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping

from index.models import ArticleDraft, Skipped
from index.sources.cleaning import clean_inline, normalise_text
from index.sources.dates import normalise_date

log = logging.getLogger(__name__)

BODY_KEYS = ("body", "text", "content")
URL_KEYS = ("url", "link")
DATE_KEYS = ("published", "date", "published_at")
SOURCE_KEYS = ("source", "outlet", "site")
_LIST_KEYS = ("articles", "items", "records")


def parse_json(text: str, origin: str) -> Iterator[ArticleDraft | Skipped]:
    """One article per record of a JSON document."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield Skipped(origin, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
        return
    if isinstance(data, Mapping):
        listed = next((data[key] for key in _LIST_KEYS if isinstance(data.get(key), list)), None)
        if listed is None:
            yield record_to_draft(data, origin)
            return
        data = listed
    if not isinstance(data, list):
        yield Skipped(origin, f"JSON holds a {type(data).__name__}, not an article object or a list of them")
        return
    if not data:
        yield Skipped(origin, "JSON list holds no articles")
        return
    for number, record in enumerate(data, start=1):
        yield record_to_draft(record, f"{origin}#{number}", where=f"record {number}")


def parse_jsonl(text: str, origin: str) -> Iterator[ArticleDraft | Skipped]:
    """One article per non-blank line of a JSON Lines file; bad lines are skipped with their number."""
    found = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = True
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Skipped(
                f"{origin}:{number}", f"{where}: not valid JSON: {error.msg} (column {error.colno})"
            )
            continue
        yield record_to_draft(record, f"{origin}:{number}", where=where)
    if not found:
        yield Skipped(origin, "no records in file (only blank lines)")


def record_to_draft(record: object, origin: str, *, where: str = "record") -> ArticleDraft | Skipped:
    """Map one JSON object to an ArticleDraft, or say what is wrong with it."""
    if not isinstance(record, Mapping):
        return Skipped(origin, f"{where}: expected a JSON object, got {_json_type(record)}")
    body_value = _first(record, BODY_KEYS)
    if body_value is None:
        return Skipped(origin, f"{where}: record has no body (expected one of: {', '.join(BODY_KEYS)})")
    if not isinstance(body_value, str):
        return Skipped(origin, f"{where}: the body is {_json_type(body_value)}, not text")
    body = normalise_text(body_value)
    if not body:
        return Skipped(origin, f"{where}: the body is empty")
    raw_date = _first(record, DATE_KEYS)
    published = normalise_date(raw_date)
    if raw_date not in (None, "") and published is None:
        log.warning("%s: unrecognised date %r", origin, raw_date)
    return ArticleDraft(
        body=body,
        origin=origin,
        title=_text(record.get("title") or record.get("headline")),
        source=_named(_first(record, SOURCE_KEYS)),
        url=_text(_first(record, URL_KEYS)),
        published=published,
        author=_named(record.get("author") or record.get("authors")),
    )


def _first(record: Mapping, keys: tuple[str, ...]) -> object:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def _text(value: object) -> str | None:
    return (
        clean_inline(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    )


def _named(value: object) -> str | None:
    """A string, an object with a "name", or a list of either (joined with commas)."""
    if isinstance(value, Mapping):
        return _text(value.get("name"))
    if isinstance(value, list):
        names = [name for name in (_named(item) for item in value) if name]
        return ", ".join(names) or None
    return _text(value)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number"
