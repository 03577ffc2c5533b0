"""Web pages (main text + metadata via trafilatura) and HTML fragments (feed content) to plain text."""

from __future__ import annotations

import codecs
import logging
import re
from datetime import datetime
from html import unescape
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.utils import decode_file

from index.models import ArticleDraft, Skipped
from index.sources.cleaning import bom_encoding, clean_inline, normalise_text
from index.sources.dates import normalise_date
from index.text import same_site, site_of

log = logging.getLogger(__name__)

NO_TEXT = "no article text found in page"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")
_BLOCK_MARK, _LINE_MARK = "\ue000", "\ue001"  # private-use code points as markers
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def decode_html(data: bytes, declared_charset: str | None = None) -> str:
    """Decode a page: BOM, then the HTTP charset, then <meta charset>, then UTF-8, then detection."""
    candidates = [bom_encoding(data), declared_charset]
    meta = _META_CHARSET.search(data[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for encoding in candidates:
        if not encoding:
            continue
        try:
            codecs.lookup(encoding)
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return decode_file(data)  # trafilatura's charset detection, lossy as a last resort


def _names_site(name: str, url: str) -> bool:
    """Whether `name` is just the host or registrable domain of `url` ("fortune.com", "www.fortune.com")."""
    name = name.lower().removeprefix("www.")
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return name in (host, site_of(url))


def extract_article(html: str, origin: str, url: str | None = None) -> ArticleDraft | Skipped:
    """The main text of a page without menus, banners, comments or related links, plus its metadata.

    `url` is the address the page was fetched from (None for a file). A fetched page's canonical URL
    is taken only on its own site: a page cannot claim another outlet's address (docs/fetching.md)."""
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            date_extraction_params={
                "extensive_search": False,  # only dates the page states, never ones guessed from text
                "original_date": True,
                "max_date": datetime.now().astimezone().strftime("%Y-%m-%d"),
            },
        )
    except Exception as error:  # trafilatura/lxml raise many kinds on hostile markup
        log.warning("%s: extraction failed: %s", origin, error)
        return Skipped(origin, f"could not parse the page as HTML ({error})")
    if document is None or document.body is None:
        return Skipped(origin, NO_TEXT)
    title = clean_inline(document.title)
    body = normalise_text(_body_text(document.body, title))
    if not body:
        return Skipped(origin, NO_TEXT)
    canonical = clean_inline(document.url)
    source = clean_inline(document.sitename)
    if canonical and url and not same_site(canonical, url):
        log.info("%s: ignoring the canonical URL %s, on another site than the page", origin, canonical)
        if source and _names_site(source, canonical):  # trafilatura's fallback: the canonical's host
            source = None
        canonical = None
    return ArticleDraft(
        body=body,
        origin=origin,
        title=title,
        source=source,
        url=canonical or url,
        published=normalise_date(document.date),
        author=clean_inline(document.author),
        fetched_from=url,
    )


def _body_text(body: etree._Element, title: str | None) -> str:
    """Serialise trafilatura's XML body: one block per paragraph, separated by blank lines."""
    blocks: list[str] = []
    for element in body:
        if element.tag == "list":
            text = "\n".join(f"- {_inline(item)}" for item in element.iter("item") if _inline(item))
        elif element.tag == "table":
            rows = (" | ".join(_inline(cell) for cell in row.iter("cell")) for row in element.iter("row"))
            text = "\n".join(row for row in rows if row.strip(" |"))
        else:
            text = _inline(element)
        if text:
            blocks.append(text)
    if blocks and title and clean_inline(blocks[0]) == title:
        blocks.pop(0)  # the headline is metadata, not body text
    return "\n\n".join(blocks)


def _inline(element: etree._Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in ("list", "table"):
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "\n".join(line.strip() for line in "".join(parts).split("\n")).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: block elements become paragraphs ("\\n\\n"), <br> a line break."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return normalise_text(unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError) as error:
        log.debug("unparseable HTML fragment (%s); using it as text", error)
        return normalise_text(fragment)
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag in _BLOCK_TAGS:
            element.text = _BLOCK_MARK + (element.text or "")
            element.tail = _BLOCK_MARK + (element.tail or "")
        elif tag == "br":
            element.tail = _LINE_MARK + (element.tail or "")
    text = _SPACES.sub(" ", root.text_content())
    paragraphs = []
    for block in text.split(_BLOCK_MARK):
        lines = [line.strip() for line in block.split(_LINE_MARK)]
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return normalise_text("\n\n".join(paragraphs))
