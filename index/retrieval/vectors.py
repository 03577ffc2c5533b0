"""The FAISS index on disk: a directory holding the index file and its metadata, swapped in atomically.

Layout of `index_dir`:
    CURRENT                 the name of the live version (replaced with os.replace)
    v-<time>-<rand>/        index.faiss + meta.json (model, dimension, count, kind, built_at)
                            [+ deleted.npy: ids removed from an HNSW index, still in its graph]

Readers follow CURRENT, so a crash while writing a new version leaves the previous one in use.
FAISS ids are SQLite chunk ids; the index can always be rebuilt from SQLite.

Index kind by size: exact inner product ("flat") for small corpora; HNSW (M 32) from HNSW_THRESHOLD
passages; an inverted file ("ivf": k-means cells of float16 vectors, the nearest cells scanned exactly)
from IVF_THRESHOLD. A fresh index (one built by `reindex`, or the very first one) takes the kind of its size
as it fills, so a corpus that outgrew one switches on its next reindex with no user work; told the size
it will reach (`expected`), it skips kinds it would outgrow, and given a sample of its vectors as well
(`reindex` does) an inverted file is trained first and filled directly. An existing index keeps its kind until
then. HNSW and IVF indexes do not delete in place here: removed ids are kept in a deleted set, filtered
out of every search and saved with the index, and disappear when `reindex` builds a fresh index.
Filtered searches over few allowed passages are exact (a dot product over just those vectors), since a
walk that must skip most candidates loses recall.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from ..storage.versions import current_version, publish, write_atomic
from .faiss_kinds import (
    FLAT,
    HNSW,
    HNSW_EF_PER,
    HNSW_EF_SEARCH,
    HNSW_M,
    IVF,
    empty_index,
    kind_of,
    probes,
    train,
)

log = logging.getLogger(__name__)

HNSW_THRESHOLD = 20_000  # passages; exact search below (a few ms per query), HNSW from here on
# Past IVF_THRESHOLD an inverted file builds in minutes where HNSW takes far longer and needs a beam
# past 1,000 (the recall and timing runs behind these: docs/performance.md).
IVF_THRESHOLD = 200_000  # passages; an inverted file from here on (HNSW's beam would pass 1,000)
EXACT_FILTER_MAX = 20_000  # filtered HNSW/IVF searches over at most this many allowed ids are exact


class IndexMismatch(RuntimeError):
    """The saved index was built with another model or dimension."""


@dataclass(frozen=True)
class IndexMeta:
    model: str
    dimension: int
    count: int
    kind: str
    built_at: str
    deleted: int = 0
    params: dict = field(default_factory=dict)
    seq: int | None = None  # the change log's position it reflects (None: unknown, an older index)

    def to_json(self) -> dict:
        return self.__dict__.copy()


class VectorIndex:
    """Inner-product search over normalised vectors, keyed by chunk id: exact or HNSW by size."""

    def __init__(
        self,
        model: str,
        dimension: int,
        index: faiss.Index | None = None,
        built_at: str = "",
        *,
        kind: str | None = None,
        deleted: np.ndarray | None = None,
        threshold: int | None = None,
        ivf_threshold: int | None = None,
        ef_search: int | None = None,
        expected: int = 0,
        sample: np.ndarray | None = None,
    ):
        self.model = model
        self.dimension = dimension
        self.built_at = built_at
        self.threshold = HNSW_THRESHOLD if threshold is None else threshold
        self.ivf_threshold = IVF_THRESHOLD if ivf_threshold is None else ivf_threshold
        self.ef_search = ef_search or HNSW_EF_SEARCH
        self.expected = expected  # the size a fresh index is being filled to, when known
        self.seq: int | None = None  # the change log's position (migration m008) it reflects
        # A fresh index chooses its kind by size as it fills; a loaded or given one keeps its kind.
        self._auto = index is None and kind is None
        self.kind = kind or kind_of(index)
        self.index = index if index is not None else empty_index(self.kind, dimension)
        if self._auto and sample is not None and self.expected >= self.ivf_threshold:
            # Told its size and given a sample of its vectors: an inverted file trained now and filled
            # directly, never holding every vector twice (a flat copy converted at the end would).
            self.kind, self.index = IVF, empty_index(IVF, dimension, self.expected)
            train(self.index, sample)
        self._deleted: set[int] = (
            set(np.asarray(deleted, dtype=np.int64).tolist()) if deleted is not None else set()
        )
        self._deleted_sel: tuple[faiss.IDSelector, faiss.IDSelector] | None = None
        self._id_order: tuple[np.ndarray, np.ndarray] | None = None  # sorted ids, their positions
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return int(self.index.ntotal) - len(self._deleted)

    @property
    def deleted(self) -> int:
        return len(self._deleted)

    def meta(self) -> IndexMeta:
        params: dict = {}
        if self.kind == HNSW:
            params = {"m": HNSW_M, "ef_search": self.ef_search}
        elif self.kind == IVF:
            ivf = faiss.downcast_index(faiss.extract_index_ivf(self.index))
            stored = "float16" if isinstance(ivf, faiss.IndexIVFScalarQuantizer) else "float32"
            params = {"cells": int(ivf.nlist), "scanned": probes(ivf.nlist), "stored": stored}
        return IndexMeta(
            self.model,
            self.dimension,
            self.count,
            self.kind,
            self.built_at,
            len(self._deleted),
            params,
            self.seq,
        )

    def ids(self) -> np.ndarray:
        with self._lock:
            ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            if self._deleted:
                ids = ids[~np.isin(ids, self._deleted_array())]
            return ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise IndexMismatch(f"vectors have dimension {vectors.shape[-1]}, the index {self.dimension}")
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            if self._deleted and not self._deleted.isdisjoint(ids.tolist()):
                self._compact()  # an id coming back: drop its old vector from the graph first
            self.index.add_with_ids(vectors, ids)
            self._id_order = None
            if self._auto:
                self._grow()

    def _grow(self, *, filled: bool = False) -> None:
        """A fresh index takes the kind of its size; one being filled to a known size goes straight
        to the kind of that size once full (no HNSW graph built only to be replaced). Holds the lock."""
        n = int(self.index.ntotal)
        size = n if filled else max(n, self.expected)  # the size it is growing to
        if self.kind == IVF and size < self.ivf_threshold:  # trained ahead, then filled short of it
            self._convert(HNSW if n >= self.threshold else FLAT)
        elif size >= self.ivf_threshold:
            if self.kind != IVF and n >= size:
                self._convert(IVF)
        elif self.kind == FLAT and n >= self.threshold:
            self._convert(HNSW)

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        with self._lock:
            if self.kind == FLAT:
                removed = int(self.index.remove_ids(ids))
                self._id_order = None
                return removed
            present = faiss.vector_to_array(self.index.id_map)
            fresh = [int(i) for i in ids[np.isin(ids, present)] if int(i) not in self._deleted]
            self._deleted.update(fresh)
            if fresh:
                self._deleted_sel = None
            return len(fresh)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, excluded: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest passages, optionally only among `allowed` ids, or
        leaving out `excluded` ones (a viewer's hidden passages: few, so excluded rather than listed)."""
        if allowed is not None and excluded is not None and len(excluded):
            allowed = np.setdiff1d(np.asarray(allowed, dtype=np.int64), excluded)
            excluded = None
        if excluded is not None and len(excluded) == 0:
            excluded = None
        if self.count == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # One query gains nothing from OpenMP, and a team of threads waiting on busy cores makes a
        # search many times slower. The setting is per calling thread, and restored after.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            with self._lock:
                if self.kind == FLAT:
                    return self._search_flat(query, k, allowed, excluded)
                return self._search_approximate(query, k, allowed, excluded)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search_flat(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None, excluded: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        elif excluded is not None:
            batch = faiss.IDSelectorBatch(np.asarray(excluded, dtype=np.int64))
            params = faiss.SearchParameters(sel=faiss.IDSelectorNot(batch))
        scores, ids = self.index.search(query, min(k, self.count), params=params)
        return _pairs(ids[0], scores[0])

    def _search_approximate(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None, excluded: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """HNSW or IVF; `ef` is the HNSW beam, or the IVF cells scanned."""
        k = min(k, self.count)
        if self.kind == IVF:
            cells = int(faiss.extract_index_ivf(self.index).nlist)
            ef = probes(cells)
        else:
            cells, ef = 0, max(self.ef_search, k, int(self.index.ntotal) // HNSW_EF_PER)
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
            if self._deleted:
                allowed = allowed[~np.isin(allowed, self._deleted_array())]
            if len(allowed) == 0:
                return []
            if len(allowed) <= EXACT_FILTER_MAX:
                return self._exact_among(query, k, allowed)
            # a search that keeps only a fraction of what it visits needs a proportionally wider one
            ef = min(int(ef * self.index.ntotal / len(allowed)), 4 * ef)
            sel = faiss.IDSelectorBatch(allowed)
        elif excluded is not None:
            left_out = np.union1d(self._deleted_array(), excluded) if self._deleted else excluded
            batch = faiss.IDSelectorBatch(np.asarray(left_out, dtype=np.int64))
            sel = faiss.IDSelectorNot(batch)  # (`batch` lives until the search below returns)
            ef = int(ef * self.index.ntotal / max(int(self.index.ntotal) - len(left_out), 1))
        elif self._deleted:
            if self._deleted_sel is None:
                batch = faiss.IDSelectorBatch(self._deleted_array())
                self._deleted_sel = (faiss.IDSelectorNot(batch), batch)  # keep the inner one alive
            sel = self._deleted_sel[0]
            ef = int(ef * self.index.ntotal / max(self.count, 1))
        else:
            sel = None
        if self.kind == IVF:
            params = faiss.SearchParametersIVF(nprobe=min(ef, cells))
        else:
            params = faiss.SearchParametersHNSW(efSearch=ef)
        if sel is not None:
            params.sel = sel
        scores, ids = self.index.search(query, k, params=params)
        return _pairs(ids[0], scores[0])

    def _exact_among(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        if self._id_order is None:
            labels = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            order = np.argsort(labels, kind="stable")
            self._id_order = (labels[order], order)
        sorted_ids, order = self._id_order
        at = np.clip(np.searchsorted(sorted_ids, allowed), 0, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[at] == allowed
        ids, positions = allowed[found], order[at[found]]
        if len(ids) == 0:
            return []
        scores = self._vectors_at(positions) @ query[0]
        top = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _stored_vectors(self) -> np.ndarray:
        """The vectors the index stores, in insertion order: a read-only view for flat and HNSW, a
        copy for IVF (its vectors live in per-cell lists)."""
        inner = faiss.downcast_index(self.index.index)
        if self.kind == IVF:
            return inner.reconstruct_n(0, int(inner.ntotal))
        flat = faiss.downcast_index(inner.storage) if self.kind == HNSW else inner
        n = int(flat.ntotal)
        return faiss.rev_swig_ptr(flat.get_xb(), n * self.dimension).reshape(n, self.dimension)

    def blocks(self, size: int = 65_536):
        """(ids, vectors) of everything stored (deleted ones included), a block at a time: exact
        search over an index of any kind without a second copy of its vectors in memory."""
        labels = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        inner = faiss.downcast_index(self.index.index)
        for start in range(0, len(labels), size):
            count = min(size, len(labels) - start)
            if self.kind == IVF:
                yield labels[start : start + count], inner.reconstruct_n(start, count)
            else:
                yield labels[start : start + count], self._stored_vectors()[start : start + count]

    def _vectors_at(self, positions: np.ndarray) -> np.ndarray:
        if self.kind == IVF:
            inner = faiss.downcast_index(self.index.index)
            return inner.reconstruct_batch(np.asarray(positions, dtype=np.int64))
        return self._stored_vectors()[positions]

    def _deleted_array(self) -> np.ndarray:
        return np.fromiter(self._deleted, dtype=np.int64, count=len(self._deleted))

    def _convert(self, kind: str) -> None:
        """Rebuild as `kind` from the stored vectors (without deleted ones). Holds the lock."""
        labels = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        vectors = self._stored_vectors()
        if self._deleted:
            keep = ~np.isin(labels, self._deleted_array())
            labels, vectors = labels[keep], vectors[keep]
        log.info("building a %s index over %d passages", kind, len(labels))
        index = empty_index(kind, self.dimension, len(labels))
        if kind == IVF:
            train(index, vectors)
        step = 65_536
        for start in range(0, len(labels), step):
            index.add_with_ids(
                np.ascontiguousarray(vectors[start : start + step]), labels[start : start + step]
            )
        self.index, self.kind = index, kind
        self._deleted, self._deleted_sel, self._id_order = set(), None, None

    def _compact(self) -> None:
        self._convert(self.kind)

    # -- persistence ----------------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write a new version beside the live one, then point CURRENT at it in one rename."""
        built_at = _now()
        if self._auto:
            with self._lock:
                self._grow(filled=True)  # fewer passages than expected came: settle on this size

        def write(staging: Path) -> None:
            with self._lock:
                faiss.write_index(self.index, str(staging / "index.faiss"))
                if self._deleted:
                    np.save(staging / "deleted.npy", self._deleted_array())
                meta = self.meta()
            meta = IndexMeta(**{**meta.to_json(), "built_at": built_at})
            write_atomic(staging / "meta.json", json.dumps(meta.to_json(), indent=2))

        live = publish(index_dir, write)
        self.built_at = built_at
        return live

    @classmethod
    def load(cls, index_dir: Path, model: str, dimension: int) -> VectorIndex | None:
        """The live index, or None if there is none yet. Refuses an index of another model."""
        live = current_version(index_dir)
        if live is None:
            return None
        meta = json.loads((live / "meta.json").read_text())
        if meta["model"] != model or int(meta["dimension"]) != dimension:
            raise IndexMismatch(
                f"the vector index was built with model {meta['model']!r} (dimension {meta['dimension']}) "
                f"but newsbot is configured for {model!r} (dimension {dimension}); run `newsbot reindex`"
            )
        index = faiss.read_index(str(live / "index.faiss"))
        deleted_file = live / "deleted.npy"
        deleted = np.load(deleted_file) if deleted_file.exists() else None
        loaded = cls(
            model,
            dimension,
            index,
            built_at=meta.get("built_at", ""),
            kind=meta.get("kind") or kind_of(index),
            deleted=deleted,
        )
        loaded.seq = meta.get("seq")
        return loaded


def _pairs(ids: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i >= 0]


def read_meta(index_dir: Path) -> dict | None:
    live = current_version(index_dir)
    return json.loads((live / "meta.json").read_text()) if live else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
