"""The kinds of FAISS index the vector index uses, and how each is built: exact inner product ("flat"),
HNSW, or an inverted file of float16 vectors ("ivf"). Which kind a size takes is `vectors.py`'s call."""

from __future__ import annotations

import contextlib
import ctypes

import faiss
import numpy as np

FLAT, HNSW, IVF = "flat", "hnsw", "ivf"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96  # the least beam
HNSW_EF_PER = 200  # ...and one beam slot per this many passages: recall falls as HNSW grows
# Real questions lie farther from passages than stored vectors do, so at least IVF_MIN_SCAN cells are
# scanned (docs/performance.md).
IVF_SCAN = 64  # share of the cells scanned per query: 1/64 ...
IVF_MIN_SCAN = 64  # ... and at least this many (64 of 2,048 at 200k-700k, 64 of 4,096 at 1M)
IVF_TRAIN_PER_CELL = 50  # k-means sample: this many vectors per cell


def empty_index(kind: str, dimension: int, size: int = 0) -> faiss.Index:
    if kind == IVF:
        cells = cells_for(size)
        # Vectors stored as float16 (exact distances to them): half the memory of float32 with the
        # same recall and a faster scan; 8-bit codes lost recall (docs/performance.md).
        fp16 = faiss.ScalarQuantizer.QT_fp16
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, cells, fp16, faiss.METRIC_INNER_PRODUCT, False
        )
        ivf.make_direct_map()  # positions -> vectors, for exact filtered searches and rebuilds
        return faiss.IndexIDMap2(ivf)
    if kind == HNSW:
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(graph)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def cells_for(size: int) -> int:
    """IVF cells: the power of two nearest 4·√size (4,096 at 1M)."""
    return 1 << max(4, round(np.log2(4 * np.sqrt(max(size, 1)))))


def release_freed_memory() -> None:
    """Give memory freed by a large index back to the system (glibc keeps it in its heap otherwise)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def training_size(size: int) -> int:
    """How many vectors an inverted file for `size` passages is trained on (a sample of them)."""
    return IVF_TRAIN_PER_CELL * cells_for(size)


def probes(cells: int) -> int:
    return min(cells, max(IVF_MIN_SCAN, cells // IVF_SCAN))


def train(index: faiss.Index, vectors: np.ndarray) -> None:
    """k-means cells from an evenly spread sample of the vectors."""
    ivf = faiss.extract_index_ivf(index)
    want = min(len(vectors), IVF_TRAIN_PER_CELL * int(ivf.nlist))
    picks = np.linspace(0, len(vectors) - 1, want).astype(np.int64)
    ivf.cp.max_points_per_centroid = IVF_TRAIN_PER_CELL + 1  # trained on the sample as given
    ivf.train(np.ascontiguousarray(vectors[picks], dtype=np.float32))


def kind_of(index: faiss.Index | None) -> str:
    if index is None:
        return FLAT
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    if isinstance(inner, faiss.IndexIVF):
        return IVF
    return HNSW if isinstance(inner, faiss.IndexHNSW) else FLAT
