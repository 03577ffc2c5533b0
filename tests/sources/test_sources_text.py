"""Plain-text and Markdown articles, and the text normalisation every body gets."""

from __future__ import annotations

import shutil
from pathlib import Path

from index.models import ArticleDraft, Skipped
from index.sources import read_sources


def read_one(path: Path) -> ArticleDraft | Skipped:
    items = list(read_sources([str(path)]))
    assert len(items) == 1, items
    return items[0]


def test_sample_with_date_header_keeps_date_and_body(fixtures: Path, tmp_path: Path) -> None:
    sample = tmp_path / "sample.txt"
    shutil.copy(fixtures / "sample_date_header.txt", sample)
    draft = read_one(sample)
    assert isinstance(draft, ArticleDraft)
    assert draft.published == "2025-03-28"
    assert draft.body.startswith("The U.S. president, in his post")
    assert not draft.body.lower().startswith("date")
    assert "2025-03-28" not in draft.body
    assert draft.title is None
    assert draft.origin == str(sample)
    # everything after the header is kept verbatim (modulo normalisation)
    original = sample.read_text(encoding="utf-8")
    assert draft.body == original.split("2025-03-28", 1)[1].strip()
    assert "\n\nTrump later called the prime minister by his first name Mark." in draft.body


def test_text_without_header_has_no_date(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("The council met on 2024-05-01 to discuss the budget.\n", encoding="utf-8")
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.published is None
    assert draft.body == "The council met on 2024-05-01 to discuss the budget."


def test_date_header_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "own_line.txt"
    path.write_text("date 2024-02-29\n\nLeap day story.\n", encoding="utf-8")
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert (draft.published, draft.body) == ("2024-02-29", "Leap day story.")


def test_impossible_header_date_is_not_invented(tmp_path: Path) -> None:
    path = tmp_path / "bad_date.txt"
    path.write_text(" date 2024-02-30 Body text here.", encoding="utf-8")
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.published is None
    assert draft.body == "Body text here."


def test_normalisation_crlf_trailing_spaces_blank_lines_nfc(tmp_path: Path) -> None:
    path = tmp_path / "messy.txt"
    decomposed = "Cafe\u0301"  # e + combining acute accent
    path.write_bytes(f"  First line   \r\nsecond\t\r\n\r\n\r\n\r\n{decomposed} opens.  \r\n\r\n".encode())
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.body == "First line\nsecond\n\nCaf\u00e9 opens."


def test_body_is_otherwise_untouched(tmp_path: Path) -> None:
    text = 'He said: "It\'s  *not*   over" -- yet.\n    Indented line stays.\n\nSecond paragraph.'
    path = tmp_path / "verbatim.txt"
    path.write_text(text, encoding="utf-8")
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.body == text


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text(
        "---\n"
        'title: "Ferry timetable cut"\n'
        "outlet: Island Post\n"
        "link: https://islandpost.example/ferry\n"
        "published: 2024-05-01T18:30:00+02:00\n"
        "author: [Ann Lee, Bo Berg]\n"
        "tags: [transport]\n"
        "---\n"
        "# Ferry timetable cut\n\nThe ferry will run **twice** a day from June.\n",
        encoding="utf-8",
    )
    draft = read_one(path)
    assert draft == ArticleDraft(
        body="# Ferry timetable cut\n\nThe ferry will run **twice** a day from June.",
        origin=str(path),
        title="Ferry timetable cut",
        source="Island Post",
        url="https://islandpost.example/ferry",
        published="2024-05-01",
        author="Ann Lee, Bo Berg",
    )


def test_markdown_rfc2822_date_nested_source_and_list_author(tmp_path: Path) -> None:
    path = tmp_path / "story.markdown"
    path.write_text(
        "---\r\ndate: Tue, 30 Apr 2024 23:10:00 -0400\r\nsource:\r\n  name: Harbor Times\r\n"
        "authors:\r\n  - Kim Park\r\n  - Lou Reyes\r\n---\r\nBody.\r\n",
        encoding="utf-8",
    )
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.published == "2024-04-30"  # the date as written, not shifted to UTC
    assert draft.source == "Harbor Times"
    assert draft.author == "Kim Park, Lou Reyes"
    assert draft.body == "Body."


def test_markdown_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bare.md"
    path.write_text("Just a paragraph.\n\n---\n\nAfter a rule.", encoding="utf-8")
    draft = read_one(path)
    assert isinstance(draft, ArticleDraft)
    assert draft.body == "Just a paragraph.\n\n---\n\nAfter a rule."
    assert (draft.title, draft.published) == (None, None)


def test_markdown_with_only_front_matter_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "empty_body.md"
    path.write_text("---\ntitle: Nothing here\n---\n\n", encoding="utf-8")
    item = read_one(path)
    assert isinstance(item, Skipped)
    assert item.reason == "no article text after the front matter"
