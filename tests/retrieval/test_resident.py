"""The impact index is paged into memory when it loads (index/retrieval/resident.py), unless the
setting says no."""

import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from index.engine import Engine
from index.retrieval.resident import populate, release
from tests.conftest import bundled_articles, draft_of

SMAPS = Path("/proc/self/smaps")
pytestmark = pytest.mark.skipif(not SMAPS.exists(), reason="reads the kernel's account of mapped pages")


def kernel_populates() -> bool:
    """Whether this kernel pages a file mapping in on request (MADV_POPULATE_READ, Linux 5.14+)."""
    if not SMAPS.exists():
        return False
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "probe.npy", np.zeros(4096, dtype=np.int32))
        return populate([np.load(Path(folder) / "probe.npy", mmap_mode="r")])


needs_populate = pytest.mark.skipif(
    not kernel_populates(),
    reason="the kernel has no MADV_POPULATE_READ (Linux 5.14+): pages load on first touch",
)


def resident_bytes(array: np.ndarray) -> int:
    """Bytes of the mapping holding `array` that are mapped into this process (its Rss in smaps)."""
    address, inside = array.ctypes.data, False
    for line in SMAPS.read_text().splitlines():
        head = line.split(maxsplit=1)[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(part, 16) for part in head.split("-"))
            inside = start <= address < end
        elif inside and head == "Rss:":
            return int(line.split()[1]) * 1024
    raise AssertionError("no mapping holds this array")


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@needs_populate
def test_populate_maps_every_page_of_a_memory_mapped_array(tmp_path):
    np.save(tmp_path / "docs.npy", np.arange(3_000_000, dtype=np.int32))  # 12 MB, in the page cache
    array = np.load(tmp_path / "docs.npy", mmap_mode="r")
    assert resident_bytes(array) < array.nbytes // 100  # mapped, not touched yet
    assert populate([array])
    assert resident_bytes(array) >= array.nbytes


def test_release_unmaps_the_pages_of_file_mapped_arrays_only(tmp_path):
    values = np.arange(3_000_000, dtype=np.int32)
    np.save(tmp_path / "docs.npy", values)
    array = np.load(tmp_path / "docs.npy", mmap_mode="r")
    populate([array])
    anonymous = values.copy()
    assert release([array, anonymous])
    assert resident_bytes(array) < array.nbytes // 100
    assert np.array_equal(array, values)  # read back from the page cache
    assert np.array_equal(anonymous, values)  # not zeroed, as MADV_DONTNEED would do to it


@needs_populate
@pytest.mark.parametrize("resident", [True, False])
def test_a_loaded_impact_index_is_paged_in_unless_the_setting_says_no(engine, settings, resident):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:16])
    engine.reindex()
    chosen = settings.model_copy(update={"lexical_resident": resident})
    with Engine(chosen, embedder=engine.embedder) as fresh:
        fresh.vectors  # noqa: B018 - loads the indexes, as the bot does at start
        arrays = fresh.store.impacts.arrays()
        paged_in = wait_for(lambda: all(resident_bytes(a) >= a.nbytes for a in arrays), 10 if resident else 1)
        assert paged_in is resident
        assert fresh.store.lexical("court judge ruling", 5)  # and it searches as ever


@needs_populate
def test_reindex_releases_the_pages_while_it_builds_and_pages_them_in_after(engine):
    engine.ingest_items(draft_of(r) for r in bundled_articles()[:16])
    engine.reindex()  # builds the impact index, then pages it in
    arrays = engine.store.impacts.arrays()
    assert wait_for(lambda: all(resident_bytes(a) >= a.nbytes for a in arrays))
    during: list[int] = []

    def progress(stage, done, total):
        if stage == "reindex":
            during.append(sum(resident_bytes(a) for a in arrays))

    engine.reindex(progress=progress)  # nothing changed: the same impact index stays
    assert engine.store.impacts.arrays()[1] is arrays[1]
    assert during and max(during) < sum(a.nbytes for a in arrays) // 2
    assert wait_for(lambda: all(resident_bytes(a) >= a.nbytes for a in arrays))
