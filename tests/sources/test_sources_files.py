"""Files and folders: dispatch by extension, rejections with specific reasons, batches that keep going."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest

from index.models import ArticleDraft, Skipped
from index.sources import read_sources


def only(items: list) -> ArticleDraft | Skipped:
    assert len(items) == 1, items
    return items[0]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b" \n\t\n", "empty file (only whitespace)"),
        ("nul.txt", b"some text\x00\x00\x01\x02 more", "binary file (not text)"),
        ("png.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(1, 32)) * 4, "binary file (not text)"),
        ("image.html", b"GIF89a\x01\x00\x01\x00\x00\xff\x00", "binary file (not text)"),
        ("feed.xml", b"\x00\x01\x02\x03" * 10, "binary file (not text)"),
        (
            "latin1.txt",
            "Caf\u00e9 au lait".encode("latin-1"),
            "not valid UTF-8 text (byte 0xe9 at offset 3); re-save the file as UTF-8",
        ),
        ("notes.docx", b"PK\x03\x04", "unsupported file type .docx"),
        ("README", b"hello", "unsupported file type (no extension)"),
    ],
)
def test_rejections(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert only(list(read_sources([str(path)]))) == Skipped(str(path), reason)


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2_001, encoding="utf-8")
    item = only(list(read_sources([str(path)], max_bytes=2_000)))
    assert item == Skipped(str(path), "file too large (2001 bytes, limit 2000)")
    assert isinstance(only(list(read_sources([str(path)], max_bytes=2_001))), ArticleDraft)


def test_missing_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    assert list(read_sources([missing])) == [Skipped(missing, "no such file or folder")]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_byte_order_marks(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "bom.txt"
    encoding = {codecs.BOM_UTF8: "utf-8", codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}[
        bom
    ]
    path.write_bytes(bom + " date 2024-07-04 Fireworks over the river.".encode(encoding))
    draft = only(list(read_sources([str(path)])))
    assert isinstance(draft, ArticleDraft)
    assert (draft.published, draft.body) == ("2024-07-04", "Fireworks over the river.")


def test_extension_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "LOUD.TXT"
    path.write_text("Quiet story.", encoding="utf-8")
    assert only(list(read_sources([str(path)]))).body == "Quiet story."


def test_folder_is_walked_sorted_recursive_skipping_hidden(tmp_path: Path, fixtures: Path) -> None:
    root = tmp_path / "inbox"
    (root / "b_sub" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.txt").write_text("Story A.", encoding="utf-8")
    (root / "c.md").write_text("---\ntitle: C\n---\nStory C.", encoding="utf-8")
    (root / "b_sub" / "b1.txt").write_text("Story B1.", encoding="utf-8")
    (root / "b_sub" / "deeper" / "b2.jsonl").write_text('{"body": "Story B2."}\nnot json\n', encoding="utf-8")
    (root / "b_sub" / "broken.txt").write_bytes(b"\xff\xfe\x00\x00")  # UTF-32 BOM, then nothing
    (root / "b_sub" / "binary.txt").write_bytes(b"\x00" * 50)
    (root / ".hidden.txt").write_text("Secret.", encoding="utf-8")
    (root / ".git" / "config.txt").write_text("Not an article.", encoding="utf-8")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    shutil.copy(fixtures / "rss2.xml", root / "feed.xml")

    items = list(read_sources([str(root)]))
    seen = [
        (Path(item.origin if isinstance(item, ArticleDraft) else item.source).name, type(item).__name__)
        for item in items
    ]
    assert seen == [
        ("a.txt", "ArticleDraft"),
        ("b1.txt", "ArticleDraft"),
        ("binary.txt", "Skipped"),
        ("broken.txt", "Skipped"),
        ("b2.jsonl:1", "ArticleDraft"),
        ("b2.jsonl:2", "Skipped"),
        ("c.md", "ArticleDraft"),
        ("feed.xml#1", "ArticleDraft"),
        ("feed.xml#2", "ArticleDraft"),
        ("feed.xml#3", "ArticleDraft"),
        ("photo.jpg", "Skipped"),
    ]
    bodies = [item.body for item in items if isinstance(item, ArticleDraft)]
    assert "Secret." not in bodies and "Not an article." not in bodies
    assert items[-1].reason == "unsupported file type .jpg"


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_bytes(b"\x00\x01")
    assert list(read_sources([str(tmp_path / "empty")])) == [
        Skipped(str(tmp_path / "empty"), "folder holds no files")
    ]


def test_batch_continues_past_bad_items_and_crashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Good story.", encoding="utf-8")
    crashing = tmp_path / "crash.md"
    crashing.write_text("Will crash.", encoding="utf-8")

    def explode(text: str, origin: str) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("index.sources.parse_markdown", explode)
    items = list(read_sources(["", str(tmp_path / "missing.txt"), str(crashing), str(good)]))
    assert items[0] == Skipped("", "empty source name")
    assert items[1].reason == "no such file or folder"
    assert items[2] == Skipped(str(crashing), "unexpected error while reading (RuntimeError: parser bug)")
    assert isinstance(items[3], ArticleDraft) and items[3].body == "Good story."


def test_read_sources_is_lazy_and_accepts_any_iterable(tmp_path: Path) -> None:
    paths = []
    for n in range(3):
        path = tmp_path / f"{n}.txt"
        path.write_text(f"Story {n}.", encoding="utf-8")
        paths.append(str(path))
    generator = read_sources(path for path in paths)
    assert next(generator).body == "Story 0."
    assert [item.body for item in generator] == ["Story 1.", "Story 2."]
