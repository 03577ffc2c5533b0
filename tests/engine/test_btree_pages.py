"""The interior pages of SQLite's lookup b-trees are found by walking the file and kept mapped into
memory (index/btree_pages.py); hits read their article from the citation index (migration m007)."""

import mmap
import os
import sqlite3

import numpy as np
import pytest

from index.btree_pages import ResidentPages, interior_pages, roots
from index.store import LOOKUP_TREES
from tests.conftest import bundled_articles, draft_of
from tests.engine.test_resident import SMAPS, resident_bytes, wait_for


def has_dbstat() -> bool:
    try:
        sqlite3.connect(":memory:").execute("SELECT count(*) FROM dbstat").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


needs_dbstat = pytest.mark.skipif(not has_dbstat(), reason="SQLite's own page map (dbstat) is the oracle")


def interior_by_sqlite(path, names) -> list[int]:
    """The interior pages of these b-trees, as SQLite itself lists them."""
    with sqlite3.connect(path) as db:
        marks = ",".join("?" * len(names))
        sql = f"SELECT pageno FROM dbstat WHERE name IN ({marks}) AND pagetype = 'internal'"
        return sorted(r[0] for r in db.execute(sql, names))


@pytest.fixture
def deep_db(tmp_path):
    """A table of 20,000 rows (two levels of interior pages) and an index on long keys, whose interior
    pages hold few keys each (four levels)."""
    path = tmp_path / "deep.db"
    rng = np.random.default_rng(3)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, key TEXT, body TEXT)")
        db.execute("CREATE INDEX idx_rows_key ON rows(key)")
        db.executemany(
            "INSERT INTO rows (key, body) VALUES (?, ?)",
            ((f"{rng.integers(1 << 62):020d}" * 20, "x" * 300) for _ in range(20_000)),
        )
    return path


@needs_dbstat
def test_the_walk_finds_exactly_the_interior_pages_sqlite_lists(deep_db):
    names = ["rows", "idx_rows_key"]
    with sqlite3.connect(deep_db) as db:
        pages, page_size = interior_pages(deep_db, roots(db, names))
        assert page_size == db.execute("PRAGMA page_size").fetchone()[0]
    expected = interior_by_sqlite(deep_db, names)
    assert len(expected) > 100  # deep enough to have several levels
    assert pages == expected


@needs_dbstat
def test_the_walk_stops_at_a_page_that_is_not_what_it_expects(deep_db):
    with sqlite3.connect(deep_db) as db:
        (root,) = roots(db, ["idx_rows_key"])
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    whole = interior_by_sqlite(deep_db, ["idx_rows_key"])
    child = next(p for p in whole if p != root)
    with open(deep_db, "r+b") as file:  # one interior page turned to garbage
        file.seek((child - 1) * page_size)
        file.write(bytes(range(256)) * (page_size // 256))
    pages, _ = interior_pages(deep_db, [root])
    assert root in pages and child not in pages
    assert set(pages) <= set(whole)


def test_a_file_that_is_not_a_database_has_no_pages_to_keep(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database" * 1000)
    assert interior_pages(path, [1]) == ([], 0)


@pytest.mark.skipif(not SMAPS.exists(), reason="reads the kernel's account of mapped pages")
def test_kept_pages_are_mapped_into_the_process_until_closed(deep_db):
    with open(deep_db, "rb") as file:  # out of the page cache: the walk reads back what it needs
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    with sqlite3.connect(deep_db) as db:
        pages, page_size = interior_pages(deep_db, roots(db, ["rows", "idx_rows_key"]))
    kept = ResidentPages(deep_db, pages, page_size)
    view = np.frombuffer(kept._map, dtype=np.uint8)
    try:
        address = view.ctypes.data
        assert all(present(address + (page - 1) * page_size) for page in pages)
        # and hardly more (the kernel also maps neighbours that are in the page cache, as it reads)
        assert resident_bytes(view) < 2 * len(pages) * page_size < view.nbytes // 10
    finally:
        del view
    kept.close()
    assert kept.nbytes == 0


def present(address: int) -> bool:
    """Whether the page at this address is mapped into this process (/proc/self/pagemap's bit 63)."""
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(address // mmap.PAGESIZE * 8)
        return bool(int.from_bytes(pagemap.read(8), "little") >> 63)


def test_a_hit_reads_its_article_from_the_citation_index_alone(engine):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:4])
    ids = engine.store.chunk_ids()[:5].tolist()
    statements: list[str] = []
    engine.store.db.conn.set_trace_callback(statements.append)
    try:
        hits = engine.store.passages(ids)
    finally:
        engine.store.db.conn.set_trace_callback(None)
    assert sorted(hits) == sorted(ids) and all(hit[5] for hit in hits.values())  # with their titles
    (select,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    plan = " | ".join(r[3] for r in engine.store.db.execute(f"EXPLAIN QUERY PLAN {select}"))
    assert "COVERING INDEX idx_articles_cite" in plan, plan


@needs_dbstat
@pytest.mark.skipif(not SMAPS.exists(), reason="reads the kernel's account of mapped pages")
def test_an_engine_keeps_the_lookup_pages_of_its_store(engine, settings):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:16])
    engine.reindex()  # then pages in, in the background
    expected = interior_by_sqlite(settings.db_path, list(LOOKUP_TREES))
    assert expected  # 16 articles' passages fill more than one page
    assert wait_for(lambda: engine.store.lookup_pages == expected)
