"""Structured article records: .json (object, list, or {"articles": [...]}) and .jsonl / .ndjson."""

from __future__ import annotations

import codecs
import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO

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
    except RecursionError:
        yield Skipped(origin, "JSON nested too deeply")
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
    """One article per non-blank line of a JSON Lines text (a fetched body, already in memory)."""
    lines = ((n, line) for n, line in enumerate(text.split("\n"), start=1))
    yield from _jsonl_records(lines, origin)


def read_jsonl(stream: BinaryIO, origin: str, *, max_record: int) -> Iterator[ArticleDraft | Skipped]:
    """One article per line of a JSON Lines file, read record by record: memory stays within one
    record however large the file, and a record over `max_record` bytes is skipped with its line."""
    yield from _jsonl_records(_stream_lines(stream, origin, max_record), origin)


def _stream_lines(stream: BinaryIO, origin: str, max_record: int) -> Iterator[tuple[int, str | Skipped]]:
    """(line number, text) per line; a Skipped in place of the text for an oversized or undecodable line."""
    for number in itertools.count(1):
        raw = stream.readline(max_record + 1)
        if not raw:
            return
        where = f"{origin}:{number}"
        if len(raw) > max_record and not raw.endswith(b"\n"):
            size = len(raw) + _skip_line(stream)
            reason = f"line {number}: record too large ({size} bytes, limit {max_record})"
            yield number, Skipped(where, reason)
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = f"byte 0x{raw[error.start]:02x} at column {error.start + 1}"
            yield number, Skipped(where, f"line {number}: not valid UTF-8 ({bad})")


def _skip_line(stream: BinaryIO, chunk: int = 1 << 16) -> int:
    """Read past the rest of the current line; returns how many bytes were passed over."""
    passed = 0
    while piece := stream.readline(chunk):
        passed += len(piece)
        if piece.endswith(b"\n"):
            break
    return passed


def _jsonl_records(
    lines: Iterable[tuple[int, str | Skipped]], origin: str
) -> Iterator[ArticleDraft | Skipped]:
    """Records of (number, line) pairs. Lines are split at "\\n" only: a JSON string may hold U+2028
    and other characters that str.splitlines breaks at."""
    found = False
    for number, line in lines:
        if isinstance(line, Skipped):
            found = True
            yield line
            continue
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
        except RecursionError:
            yield Skipped(f"{origin}:{number}", f"{where}: JSON nested too deeply")
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
