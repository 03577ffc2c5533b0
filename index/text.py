"""Text helpers that keep character offsets: sentence spans, normalisation for hashing, titles."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and an
# upper-case letter, digit or opening quote; or at a paragraph break. Common abbreviations are not ends.
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n\s*\n""")
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "mt",
    "ft",
    "gen",
    "gov",
    "sen",
    "rep",
    "lt",
    "col",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "rev",
    "inc",
    "ltd",
    "co",
    "corp",
    "vs",
    "etc",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "e.g",
    "i.e",
    "a.m",
    "p.m",
    "ave",
    "dept",
    "est",
    "fig",
    "approx",
}
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _END.finditer(text, start, end):
        if match.group().strip() and _is_abbreviation(text, match.start()):
            continue
        stop = match.end() if match.group().strip() else match.start()
        _add_trimmed(text, cursor, stop, spans)
        cursor = match.end()
    _add_trimmed(text, cursor, end, spans)
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    word = _WORD_BEFORE.search(text, max(0, dot - 12), dot)
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    # Single capital letters ("J. Smith") are initials, not sentence ends.
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _add_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def normalize_for_hash(text: str) -> str:
    """Case-, space- and punctuation-insensitive form used to recognise identical articles."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", text))


def content_hash(text: str) -> str:
    return hashlib.sha1(normalize_for_hash(text).encode()).hexdigest()


def derive_title(body: str, limit: int = 120) -> str:
    """A title from the article's first sentence, shortened at a word boundary."""
    spans = sentence_spans(body)
    first = body[spans[0][0] : spans[0][1]] if spans else body.strip()
    first = " ".join(first.split())
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def site_of(url: str) -> str | None:
    """The registrable domain of a URL's host ("theguardian.com" for amp.theguardian.com, from the
    Public Suffix List bundled with `tld`), or the host itself (an IP address, an unlisted suffix)."""
    from urllib.parse import urlsplit

    from tld import get_fld

    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def same_site(url: str, other: str) -> bool:
    """Whether two URLs belong to one site (the same registrable domain: www., amp., m. hosts alike)."""
    site = site_of(url)
    return site is not None and site == site_of(other)


def canonical_url(url: str | None) -> str | None:
    """Drop fragments, tracking parameters and trailing slashes so one page has one URL."""
    if not url:
        return None
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return url.strip()
    query = [
        (k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith(("utm_", "fbclid", "gclid"))
    ]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))
