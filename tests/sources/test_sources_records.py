"""JSON and JSON Lines article records."""

from __future__ import annotations

import json
from pathlib import Path

from index.models import ArticleDraft, Skipped
from index.sources import read_sources


def read_all(path: Path) -> list[ArticleDraft | Skipped]:
    return list(read_sources([str(path)]))


def test_json_single_object_with_aliases(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    record = {
        "title": "Mine reopens",
        "text": "The copper mine reopened on Monday.\r\n\r\n\r\nWorkers returned.",
        "link": "https://news.example/mine",
        "published_at": "2024-03-05T10:00:00Z",
        "outlet": {"name": "Mining Weekly", "id": 7},
        "author": {"name": "R. Diaz"},
    }
    path.write_text(json.dumps(record), encoding="utf-8")
    assert read_all(path) == [
        ArticleDraft(
            body="The copper mine reopened on Monday.\n\nWorkers returned.",
            origin=str(path),
            title="Mine reopens",
            source="Mining Weekly",
            url="https://news.example/mine",
            published="2024-03-05",
            author="R. Diaz",
        )
    ]


def test_json_articles_wrapper_and_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    data = {
        "articles": [
            {"title": "A", "body": "Alpha body.", "date": "Mon, 06 May 2024 08:00:00 GMT", "source": "Wire"},
            {"title": "No body here", "url": "https://x.example/b"},
            "not an object",
            {"content": "Gamma body.", "site": "Gamma Site", "published": 1714953600},
        ]
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    items = read_all(path)
    assert len(items) == 4
    first, missing, wrong, last = items
    assert isinstance(first, ArticleDraft)
    assert (first.body, first.published, first.source, first.origin) == (
        "Alpha body.",
        "2024-05-06",
        "Wire",
        f"{path}#1",
    )
    assert missing == Skipped(
        f"{path}#2", "record 2: record has no body (expected one of: body, text, content)"
    )
    assert wrong == Skipped(f"{path}#3", "record 3: expected a JSON object, got a string")
    assert isinstance(last, ArticleDraft)
    assert (last.body, last.source, last.published) == ("Gamma body.", "Gamma Site", "2024-05-06")


def test_json_list(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([{"body": "One."}, {"body": "Two."}]), encoding="utf-8")
    assert [item.body for item in read_all(path) if isinstance(item, ArticleDraft)] == ["One.", "Two."]


def test_invalid_json_is_skipped_with_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"title": "x",\n "body": "y",,}', encoding="utf-8")
    [item] = read_all(path)
    assert isinstance(item, Skipped)
    assert item.reason.startswith("not valid JSON:")
    assert "line 2" in item.reason


def test_jsonl_bad_lines_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"title": "First", "body": "First body.", "date": "2024-01-02"}),
        "",
        '{"title": "Broken", "body": "unterminated',
        json.dumps({"title": "Bodyless"}),
        json.dumps({"title": "Last", "content": "Last body.", "source": "Daily"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = read_all(path)
    assert [type(item).__name__ for item in items] == ["ArticleDraft", "Skipped", "Skipped", "ArticleDraft"]
    first, broken, bodyless, last = items
    assert isinstance(first, ArticleDraft) and first.published == "2024-01-02"
    assert first.origin == f"{path}:1"
    assert broken.source == f"{path}:3"
    assert broken.reason.startswith("line 3: not valid JSON")
    assert bodyless == Skipped(
        f"{path}:4", "line 4: record has no body (expected one of: body, text, content)"
    )
    assert isinstance(last, ArticleDraft) and (last.body, last.source) == ("Last body.", "Daily")


def test_ndjson_extension_and_non_text_body(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text('{"body": ["a", "b"]}\n{"body": "ok", "date": "someday"}\n', encoding="utf-8")
    wrong, fine = read_all(path)
    assert wrong == Skipped(f"{path}:1", "line 1: the body is a list, not text")
    assert isinstance(fine, ArticleDraft)
    assert fine.published is None  # unparseable date: not guessed


def test_html_entities_in_titles_are_decoded(tmp_path):
    from index.sources import read_sources

    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"title": "&#039;Massive failure&#039; &amp; more", "body": "' + "Body text here. " * 5 + '"}\n'
    )
    (draft,) = list(read_sources([str(path)]))
    assert draft.title == "'Massive failure' & more"


def test_a_folder_readme_or_licence_is_not_an_article(tmp_path):
    from index.sources import read_sources

    (tmp_path / "README.md").write_text("# About this folder\n\nAttribution and licence of these articles.")
    (tmp_path / "LICENSE").write_text("ODC-BY")
    (tmp_path / "story.txt").write_text("A real article body with enough words to count as news today.")
    drafts = list(read_sources([str(tmp_path)]))
    assert [d.origin for d in drafts] == [str(tmp_path / "story.txt")]


def test_jsonl_larger_than_the_page_cap_is_read_record_by_record(tmp_path: Path) -> None:
    """A bulk export bigger than one page's cap is ingested; only the one oversized record is skipped."""
    path = tmp_path / "export.jsonl"
    body = "Councils met on Tuesday to agree the budget for the coming year. " * 10
    records = [json.dumps({"title": f"Story {n}", "body": body}) for n in range(1, 61)]
    records[29] = json.dumps({"title": "Huge", "body": "x" * 5_000})  # line 30: over the cap
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    cap = 2_000
    assert path.stat().st_size > 10 * cap
    items = list(read_sources([str(path)], max_bytes=cap))
    drafts = [i for i in items if isinstance(i, ArticleDraft)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(drafts) == 59 and drafts[-1].title == "Story 60"
    assert len(skipped) == 1 and skipped[0].source == f"{path}:30"
    assert skipped[0].reason.startswith("line 30: record too large (")
    assert skipped[0].reason.endswith(f"bytes, limit {cap})")


def test_jsonl_lines_split_only_at_newlines_and_bad_bytes_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    first = json.dumps({"title": "Sep", "body": "One\u2028two\x1cthree."}, ensure_ascii=False)
    path.write_bytes(first.encode() + b"\n" + b'{"body": "caf\xe9"}\n' + b'{"body": "fine"}\r\n')
    sep, bad, fine = read_all(path)
    assert isinstance(sep, ArticleDraft) and "\u2028" in sep.body
    assert bad == Skipped(f"{path}:2", "line 2: not valid UTF-8 (byte 0xe9 at column 14)")
    assert isinstance(fine, ArticleDraft) and fine.body == "fine"
