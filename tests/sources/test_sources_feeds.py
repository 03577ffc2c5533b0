"""RSS 0.91 / 1.0 / 2.0 and Atom feed files, including real-world malformed ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.models import ArticleDraft, Skipped
from index.sources import read_sources
from index.sources.feeds import is_teaser, repair_xml, sniff_markup


def read_fixture(fixtures: Path, tmp_path: Path, name: str) -> tuple[Path, list[ArticleDraft | Skipped]]:
    path = tmp_path / name
    shutil.copy(fixtures / name, path)
    return path, list(read_sources([str(path)]))


def test_rss2(fixtures: Path, tmp_path: Path) -> None:
    path, items = read_fixture(fixtures, tmp_path, "rss2.xml")
    assert all(isinstance(item, ArticleDraft) for item in items)
    glacier, strike, rates = items
    assert glacier.title == "Glacier retreat speeds up in the Alps"
    assert glacier.url == "https://dailyplanet.example/world/glacier-retreat"
    assert glacier.source == "Daily Planet — World"
    assert glacier.author == "Lena Novak"
    assert glacier.published == "2025-03-28"  # as the feed writes it (23:30 -0500), not shifted to UTC
    assert glacier.origin == f"{path}#1"
    # content:encoded wins over the description, HTML stripped, paragraphs kept, <br> a line break
    assert glacier.body.startswith(
        "Alpine glaciers lost more ice last year than in any year on record, according"
    )
    assert "\n\nThe network said that the glaciers it tracks lost 4.2 percent" in glacier.body
    assert 'who leads the survey.\n"Some of the smaller glaciers' in glacier.body
    assert "<p>" not in glacier.body and "trackPageview" not in glacier.body
    # a teaser with no fetcher is kept as it is
    assert (
        strike.body
        == "Dock workers in three ports stayed out for a seventh day on Thursday as talks stalled…"
    )
    assert strike.author == "Omar Haddad"  # from "desk@dailyplanet.example (Omar Haddad)"
    assert strike.published == "2025-03-27"
    # an aggregated item names its original outlet
    assert rates.source == "Other News Network"


def test_rss1_rdf(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "rss1.rdf")
    assert [(i.title, i.published, i.author, i.source) for i in items if isinstance(i, ArticleDraft)] == [
        ("Town library to open on Sundays", "2024-06-03", "Pieter de Vries", "Valley Tribune"),
        ("Flood barrier passes first test", "2024-06-05", None, "Valley Tribune"),
    ]
    assert items[0].body.startswith("The town library will open on Sundays")


def test_rss091_latin1_without_dates(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "rss091.xml")
    assert len(items) == 2 and all(isinstance(item, ArticleDraft) for item in items)
    assert items[0].title == "Café owners protest new terrace rules"
    assert items[0].body.startswith("Café owners gathered outside the town hall")
    assert [item.published for item in items] == [None, None]
    assert items[1].url == "http://gazette.example/school-year"


def test_atom_html_and_xhtml_content(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "atom.xml")
    fares, bronzes = items
    assert isinstance(fares, ArticleDraft) and isinstance(bronzes, ArticleDraft)
    assert fares.title == "Rail fares to rise by 4.6% in January"
    assert fares.published == "2024-11-19"  # <published> wins over <updated>
    assert fares.author == "Chloe Martin"
    assert fares.source == "The Observer Wire"
    assert fares.url == "https://observerwire.example/rail-fares"
    assert fares.body.count("\n\n") == 2
    assert "Fares will rise in January." not in fares.body  # full content preferred over summary
    assert bronzes.published == "2024-11-18"  # only <updated>
    assert bronzes.body.startswith("The national museum handed back twelve bronze plaques")
    assert "\n\nA delegation received the plaques" in bronzes.body


def test_unescaped_ampersands(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "malformed_ampersands.xml")
    assert [item.title for item in items] == [
        "Procter & Gamble to cut 7,000 jobs",
        "AT&T outage hits millions",
    ]
    assert items[0].source == "Smith & Jones Weekly"
    assert items[0].url == "https://smithjones.example/story?id=15&ref=rss"
    assert "over two years & would leave" in items[0].body
    assert [item.published for item in items] == ["2025-06-09", "2025-06-10"]


def test_undeclared_html_entities(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "malformed_entities.xml")
    [item] = items
    assert isinstance(item, ArticleDraft)
    assert item.title == "Café culture returns to the old town — at last"
    assert "the cafés of the old town reopened their terraces on Friday – to the relief" in item.body
    assert item.source == "Le Journal Quotidien"


def test_missing_and_unparseable_dates_stay_none(fixtures: Path, tmp_path: Path) -> None:
    _, items = read_fixture(fixtures, tmp_path, "missing_dates.xml")
    assert [(item.title, item.published) for item in items] == [
        ("Bridge inspection finds no faults", None),
        ("Council elects new chair", None),
    ]


def test_truncated_feed_keeps_complete_entries(fixtures: Path, tmp_path: Path) -> None:
    path, items = read_fixture(fixtures, tmp_path, "truncated.xml")
    first = items[0]
    assert isinstance(first, ArticleDraft)
    assert first.title == "Harvest festival draws record crowd"
    assert first.published == "2025-09-21"
    assert all(isinstance(item, Skipped) and item.source.startswith(f"{path}#") for item in items[1:])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("html_not_feed.xml", "not a feed: got an HTML page instead of RSS or Atom"),
        ("not_xml.xml", "not an RSS or Atom feed (syntax error at line 2, column 0)"),
    ],
)
def test_broken_feeds_are_skipped_with_reason(fixtures: Path, tmp_path: Path, name: str, reason: str) -> None:
    path, items = read_fixture(fixtures, tmp_path, name)
    assert items == [Skipped(str(path), reason)]


def test_feed_without_entries(tmp_path: Path) -> None:
    path = tmp_path / "empty.rss"
    path.write_text('<rss version="2.0"><channel><title>Quiet</title></channel></rss>', encoding="utf-8")
    assert list(read_sources([str(path)])) == [Skipped(str(path), "feed has no entries")]


def test_entry_without_text_is_skipped_but_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.atom"
    path.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Mixed</title>'
        "<entry><title>Headline only</title><id>1</id></entry>"
        "<entry><title>Has text</title><id>2</id><summary>Some words.</summary></entry></feed>",
        encoding="utf-8",
    )
    items = list(read_sources([str(path)]))
    assert items[0] == Skipped(f"{path}#1", "feed entry 'Headline only' has no text (no content or summary)")
    assert isinstance(items[1], ArticleDraft) and items[1].body == "Some words."


def test_repair_xml_leaves_cdata_and_valid_references_alone() -> None:
    raw = b"<t>A & B &amp; &#233; &eacute; &bogus;</t><![CDATA[x & y &nbsp;]]>"
    assert repair_xml(raw) == b"<t>A &amp; B &amp; &#233; &#233; &amp;bogus;</t><![CDATA[x & y &nbsp;]]>"


def test_sniff_markup() -> None:
    prolog = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- hi -->\n<?xml-stylesheet href="x"?>\n'
    assert sniff_markup(prolog + b"<rss version='2.0'>") == "feed"
    assert sniff_markup(b"<rdf:RDF xmlns:rdf='x'>") == "feed"
    assert sniff_markup(b"<feed xmlns='http://www.w3.org/2005/Atom'>") == "feed"
    assert sniff_markup(b"<!DOCTYPE html>\n<html lang='en'>") == "html"
    assert sniff_markup(b"just text") is None


def test_is_teaser() -> None:
    long_text = "word " * 120
    assert is_teaser("Short summary.")
    assert is_teaser(long_text + "Read more")
    assert is_teaser(long_text + "[…]")
    assert is_teaser(long_text + "and then…")
    assert not is_teaser(long_text.strip() + ".")
