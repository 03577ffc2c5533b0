"""Turning bytes into clean text: binary detection, decoding, and the normalisation every body gets."""

from __future__ import annotations

import codecs
import html
import logging
import re
import unicodedata

log = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f\v\x1b")
_SNIFF_BYTES = 8192
_MAX_CONTROL_RATIO = 0.05
_TRAILING_SPACE = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_MANY_NEWLINES = re.compile(r"\n{3,}")
_INLINE_SPACE = re.compile(r"\s+")
# Lone surrogates (from JSON "\\ud800" escapes) are not text: SQLite and every encoder refuse them.
_SURROGATES = re.compile("[\ud800-\udfff]")


class Unreadable(Exception):
    """The bytes are not usable text; `reason` says why, in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bom_encoding(data: bytes) -> str | None:
    """The codec named by a byte-order mark at the start of `data`, if any."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def check_not_binary(data: bytes) -> None:
    """Raise Unreadable for empty or binary content (NUL bytes, many control characters)."""
    if not data:
        raise Unreadable("empty file")
    if bom_encoding(data):
        return
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample:
        raise Unreadable("binary file (not text)")
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _ALLOWED_CONTROLS)
    if controls / len(sample) > _MAX_CONTROL_RATIO:
        raise Unreadable("binary file (not text)")


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16/32 text; raise Unreadable otherwise."""
    check_not_binary(data)
    encoding = bom_encoding(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise Unreadable(
            f"not valid UTF-8 text (byte 0x{bad} at offset {error.start}); re-save the file as UTF-8"
        ) from None
    if not text.strip():
        raise Unreadable("empty file (only whitespace)")
    return text


def normalise_text(text: str) -> str:
    """NFC, LF line ends, no trailing spaces on lines, at most one blank line in a row, trimmed."""
    text = unicodedata.normalize("NFC", _SURROGATES.sub("\ufffd", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def clean_inline(value: object) -> str | None:
    """A one-line metadata value (title, author, outlet): HTML entities decoded (feeds and exports often
    leave `&#039;` in titles), whitespace collapsed, NFC, None if empty."""
    if value is None:
        return None
    text = _SURROGATES.sub("\ufffd", html.unescape(str(value)))
    text = _INLINE_SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text or None
