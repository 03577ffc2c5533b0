"""HTML pages: main text without boilerplate, metadata from meta tags / JSON-LD, and HTML fragments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.models import ArticleDraft, Skipped
from index.sources import read_sources
from index.sources.html import html_to_text

PARAGRAPHS = [
    "The harbour bridge reopened to traffic on Tuesday morning, ending a two-year closure",
    "Engineers replaced all 312 suspension cables and resurfaced the deck",
    '"This bridge is the spine of the region," said the mayor, Henrik Aalto',
    "Freight operators welcomed the reopening but warned that a weight limit of 30 tonnes",
    "The ferry service will continue at a reduced timetable until the end of June.",
]
BOILERPLATE = [
    "We use cookies",
    "Accept all cookies",
    "Subscribe today",
    "Sport",
    "Related stories",
    "Ferry workers threaten strike",
    "Harbour tunnel plan shelved",
    "Comments (3)",
    "harbourwatcher",
    "Took them long enough",
    "Eleven million over budget and nobody",
    "All rights reserved",
    "Privacy policy",
    "morning newsletter",
    "dataLayer",
]


@pytest.fixture
def article(fixtures: Path, tmp_path: Path) -> ArticleDraft:
    path = tmp_path / "page.html"
    shutil.copy(fixtures / "news_article.html", path)
    [draft] = read_sources([str(path)])
    assert isinstance(draft, ArticleDraft)
    return draft


def test_article_paragraphs_are_kept_in_order(article: ArticleDraft) -> None:
    positions = [article.body.find(paragraph) for paragraph in PARAGRAPHS]
    assert -1 not in positions, positions
    assert positions == sorted(positions)
    assert article.body.count("\n\n") == len(PARAGRAPHS) - 1  # one blank line between paragraphs


@pytest.mark.parametrize("boilerplate", BOILERPLATE)
def test_boilerplate_is_removed(article: ArticleDraft, boilerplate: str) -> None:
    assert boilerplate not in article.body


def test_metadata_from_meta_tags_and_json_ld(article: ArticleDraft) -> None:
    assert article.title == "Harbour bridge reopens after two-year repair"
    assert article.source == "The Coastal Herald"
    assert article.author == "Maria Lindqvist"
    assert article.published == "2024-05-01"
    assert article.url == "https://www.coastalherald.example/news/2024/05/01/harbour-bridge-reopens"
    assert not article.body.startswith("Harbour bridge reopens")  # headline is metadata, not body


def test_page_without_article_text_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "menu.htm"
    path.write_text(
        "<html><head><title>Login</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
        "<li><a href='/login'>Log in</a></li></ul></nav></body></html>",
        encoding="utf-8",
    )
    assert list(read_sources([str(path)])) == [Skipped(str(path), "no article text found in page")]


def test_legacy_charset_declared_in_meta(tmp_path: Path) -> None:
    path = tmp_path / "latin1.html"
    body = "".join(
        f"<p>Le café numéro {n} a rouvert ses portes après des travaux qui ont duré deux années entières.</p>"
        for n in range(4)
    )
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        f"<title>Réouverture</title></head><body><article>{body}</article></body></html>"
    )
    path.write_bytes(page.encode("latin-1"))
    [draft] = read_sources([str(path)])
    assert isinstance(draft, ArticleDraft)
    assert "Le café numéro 0 a rouvert ses portes après des travaux" in draft.body
    assert "\ufffd" not in draft.body
    assert draft.published is None  # the page states no date: none is guessed


def test_html_fragment_to_text_keeps_paragraphs() -> None:
    fragment = (
        "<div><p>First <b>bold</b> &amp; more.</p>\n<p>Second<br/>line</p>"
        "<script>alert('x')</script><style>p{}</style><h2>Heading</h2>tail text</div>"
    )
    assert html_to_text(fragment) == "First bold & more.\n\nSecond\nline\n\nHeading\n\ntail text"
    assert html_to_text("Plain &lt;text&gt;\n\nwith paragraphs") == "Plain <text>\n\nwith paragraphs"
    assert html_to_text("") == ""
