"""The interior pages of SQLite's b-trees, kept in memory.

Looking a row up by key reads one page per level of its b-tree: the root, one or two interior pages,
then the leaf that holds the row. The interior pages are few (at a million passages, 703 of the
chunks table's 2.6 million pages) but a fresh process finds none of them in SQLite's own cache, and a
host that reclaims idle page cache (this project's VMs page out file pages that nobody maps after a
minute unused) sends each first touch to the disk: at 1M, right after a start, a search read 20-48
interior pages besides its 40-50 leaves, about 0.3 ms each on a disk that does 3,000 reads a second.

`interior_pages` walks the named b-trees from their roots down to the level above the leaves,
reading each interior page once (and one leaf per b-tree); `ResidentPages` maps those pages into the
process and faults them in (`resident.populate_pages`): they are then read from memory, and kept like
the impact index's pages. The walk reads the database file as SQLite's format documents it
(https://www.sqlite.org/fileformat2.html) and, being only a cache hint, stops at anything it does not
expect.
"""

from __future__ import annotations

import logging
import mmap
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from . import resident

log = logging.getLogger(__name__)

INTERIOR = {2, 5}  # the page types of interior index and table pages
MAX_SHARE = 0.25  # of the file's pages: more interior pages than that means the walk went astray


class ResidentPages:
    """Pages of a database file mapped into the process (and so kept in memory) until `close`."""

    def __init__(self, path: Path | str, pages: list[int], page_size: int):
        self.pages, self.page_size = pages, page_size
        self._map: mmap.mmap | None = None
        if not pages:
            return
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        resident.populate_pages(self._map, pages, page_size)

    @property
    def nbytes(self) -> int:
        return 0 if self._map is None else len(self.pages) * self.page_size

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


def interior_pages(path: Path | str, roots: Iterable[int]) -> tuple[list[int], int]:
    """(page numbers, page size) of the interior pages of the b-trees rooted at `roots`, in the
    database file as it is (a WAL's newer pages are not seen: a hint, not a snapshot)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        header = os.pread(fd, 100, 0)
        if not header.startswith(b"SQLite format 3\x00"):
            return [], 0
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        count = os.fstat(fd).st_size // page_size
        found: set[int] = set()
        for root in roots:
            _walk(fd, root, page_size, count, found, limit=max(64, int(count * MAX_SHARE)))
        return sorted(found), page_size
    finally:
        os.close(fd)


def _walk(fd: int, root: int, page_size: int, count: int, found: set[int], limit: int) -> None:
    """Add the interior pages of one b-tree to `found`, level by level. A b-tree's leaves are all at
    one depth, so the first page of a level that is not interior ends the walk (the one leaf it
    reads); a page seen before, or too many pages, means it went astray."""
    level = [root]
    while level:
        children: list[int] = []
        for page in level:
            kind, pointers = _read(fd, page, page_size, count)
            if kind not in INTERIOR and page == level[0]:
                return  # the leaves
            if kind not in INTERIOR or page in found or len(found) >= limit:
                log.debug("the walk of the b-tree at page %d stopped at page %d", root, page)
                return
            found.add(page)
            children.extend(pointers)
        level = children


def _read(fd: int, page: int, page_size: int, count: int) -> tuple[int | None, list[int]]:
    """(page type, child page numbers) of an interior page; (type, []) of any other."""
    if not 1 <= page <= count:
        return None, []
    data = os.pread(fd, page_size, (page - 1) * page_size)
    at = 100 if page == 1 else 0  # page 1 starts with the database header
    if len(data) < at + 12:
        return None, []
    kind = data[at]
    if kind not in INTERIOR:
        return kind, []
    cells = int.from_bytes(data[at + 3 : at + 5], "big")
    if at + 12 + 2 * cells > len(data):
        return None, []
    pointers = []
    for i in range(cells):
        offset = int.from_bytes(data[at + 12 + 2 * i : at + 14 + 2 * i], "big")
        if offset + 4 > len(data):
            return None, []
        pointers.append(int.from_bytes(data[offset : offset + 4], "big"))
    pointers.append(int.from_bytes(data[at + 8 : at + 12], "big"))  # the right-most child
    return kind, pointers


def roots(db: sqlite3.Connection, names: Iterable[str]) -> list[int]:
    """The root pages of these tables and indexes."""
    names = list(names)
    marks = ",".join("?" * len(names))
    rows = db.execute(f"SELECT rootpage FROM sqlite_master WHERE name IN ({marks})", names)
    return [r[0] for r in rows if r[0]]
