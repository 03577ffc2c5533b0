"""BM25 that stays fast at a million passages: FTS5's own postings turned into precomputed term weights.

FTS5 ranks with `bm25()` row by row: every passage that shares a word with the question is looked up and
scored, so a question's cost grows with the store (docs/performance.md has the figures). The
impact index keeps, for every term, the passages holding it and the term's share of their `bm25()` score
("impact"), computed once from FTS5's own postings with FTS5's own formula, column weights and
tokenizer. A question is then a few numpy additions over the postings of its terms.

It is derived data, like the vector index: built by `Engine.reindex` (and after an ingest once enough
new passages wait), saved as .npy files in a version folder switched in through a `CURRENT` pointer,
rebuildable from SQLite at any time. It covers the passages up to `max_id`; newer ones are ranked by
FTS5 itself (the tail), and passages removed since the build are masked out. Its idf and average length
are those of the build, so scores drift slightly from live FTS5 until the next build.

Function words are not indexed (they are never searched while a question has other words, and their
postings are the largest); a question made only of them falls back to FTS5.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..storage.records import Corpus
from ..storage.versions import current_version, publish, write_atomic

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75  # FTS5's bm25() constants
FORMAT = 1
MASKS = 16  # filters whose masks are kept (a mask is one byte per passage)


class ImpactIndex:
    def __init__(
        self,
        *,
        terms: list[str],
        indptr: np.ndarray,
        docs: np.ndarray,
        impacts: np.ndarray,
        chunk_ids: np.ndarray,
        published: np.ndarray,
        sources: np.ndarray,
        source_names: list[str],
        skipped: frozenset[str],
        seq: int = 0,
    ):
        self.seq = seq  # the change log's position its build reflected
        self.term_ids = {t: i for i, t in enumerate(terms)}
        self.indptr, self.docs, self.impacts = indptr, docs, impacts
        self.chunk_ids, self.published, self.sources = chunk_ids, published, sources
        self.source_names = source_names
        self.skipped = skipped  # stems left out of the index (function words)
        self.alive = np.ones(len(chunk_ids), dtype=bool)
        self.dead = 0  # passages removed from SQLite since the build
        self._masks: dict[tuple, np.ndarray] = {}  # recent filters' masks (see `mask`)
        self.max_id = int(chunk_ids[-1]) if len(chunk_ids) else 0

    @property
    def size(self) -> int:
        return len(self.chunk_ids)

    def arrays(self) -> list[np.ndarray]:
        """The arrays saved with it (memory-mapped when loaded)."""
        return [getattr(self, name) for name in self.ARRAYS]

    # -- reading --------------------------------------------------------------------------------

    def search(
        self,
        terms: Iterable[str],
        limit: int,
        since: str | None = None,
        until: str | None = None,
        sources: tuple[str, ...] | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]] | None:
        """(chunk id, bm25) of the best `limit` indexed passages for these stemmed query terms (one
        per quoted word, as FTS5 sums one score per phrase); None when a term was not indexed.
        `excluded`: sorted chunk ids left out (the passages a viewer may not see)."""
        terms = list(terms)
        if any(t in self.skipped for t in terms):
            return None
        scores = np.zeros(self.size, dtype=np.float32)
        postings = []
        for term in terms:
            j = self.term_ids.get(term)
            if j is not None:
                docs = self.docs[self.indptr[j] : self.indptr[j + 1]]
                scores[docs] += self.impacts[self.indptr[j] : self.indptr[j + 1]]
                postings.append(docs)
        if not postings or limit <= 0:
            return []
        if excluded is not None and len(excluded) and self.size:
            at = np.clip(np.searchsorted(self.chunk_ids, excluded), 0, self.size - 1)
            scores[at[self.chunk_ids[at] == excluded]] = 0  # (every matching passage scores above 0)
        if since or until or sources or self.dead:
            candidates = np.flatnonzero(scores)
            candidates = candidates[self.mask(since, until, sources, at=candidates)]
        elif sum(len(p) for p in postings) < self.size // 8:
            # few postings: the best of them (a passage appears once per term it holds), then unique
            candidates = np.concatenate(postings)
            wanted = limit * len(postings)
            if len(candidates) > wanted:
                candidates = candidates[np.argpartition(-scores[candidates], wanted - 1)[:wanted]]
            candidates = np.unique(candidates)
        else:  # postings cover much of the store: every score is a candidate
            candidates = _best(scores, limit)
        if excluded is not None and len(excluded):
            candidates = candidates[scores[candidates] > 0]
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        order = np.lexsort((self.chunk_ids[candidates], -scores[candidates]))
        best = candidates[order]
        return list(zip(self.chunk_ids[best].tolist(), scores[best].astype(float).tolist(), strict=True))

    def frequency(self, terms: list[str]) -> int | None:
        """Passages holding any of these terms (removed ones included until the next build); None
        when a term was not indexed."""
        if any(t in self.skipped for t in terms):
            return None
        found = [self.term_ids[t] for t in dict.fromkeys(terms) if t in self.term_ids]
        if len(found) == 1:
            return int(self.indptr[found[0] + 1] - self.indptr[found[0]])
        return (
            len(np.unique(np.concatenate([self.docs[self.indptr[j] : self.indptr[j + 1]] for j in found])))
            if found
            else 0
        )

    def mask(
        self,
        since: str | None = None,
        until: str | None = None,
        sources: tuple[str, ...] | None = None,
        at: np.ndarray | None = None,
    ) -> np.ndarray:
        """Which indexed passages (or those at positions `at`) are alive and pass the filters, by the
        same rules as `Filters.sql`. A filtered search needs it twice (for BM25 and the vector side) and
        members ask about the same days ("this week"), while comparing a million dates is not free: the
        masks of the last MASKS filters are kept (1 byte a passage each) until passages are removed."""
        key = (since, until, frozenset(s.lower() for s in sources) if sources else None)
        keep = self._masks.get(key)
        if keep is None and at is not None and len(at) < self.size // 16:
            return self._passing(key, at)  # a few passages: not worth a whole mask
        if keep is None:
            keep = self._passing(key, slice(None))
            keep.flags.writeable = False  # shared by every search with this filter
            for oldest in list(self._masks)[: max(len(self._masks) - MASKS + 1, 0)]:
                self._masks.pop(oldest, None)  # (list() copies the keys at once: searches run in threads)
            self._masks[key] = keep
        return keep if at is None else keep[at]

    def _passing(self, key: tuple, pick: slice | np.ndarray) -> np.ndarray:
        since, until, sources = key
        keep = self.alive[pick].copy()
        published = self.published[pick]
        if since:
            keep &= (published >= since.encode()) & (published != b"")
        if until:
            keep &= (published <= until.encode()) & (published != b"")
        if sources:
            codes = [i for i, name in enumerate(self.source_names) if name.lower() in sources]
            keep &= np.isin(self.sources[pick], codes)
        return keep

    def among(
        self, chunk_ids: np.ndarray, since=None, until=None, sources=None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each of `chunk_ids`: is it covered by this index, and does it pass the filters."""
        if self.size == 0:
            return np.zeros(len(chunk_ids), bool), np.zeros(len(chunk_ids), bool)
        at = np.clip(np.searchsorted(self.chunk_ids, chunk_ids), 0, self.size - 1)
        covered = self.chunk_ids[at] == chunk_ids
        return covered, covered & self.mask(since, until, sources, at=at)

    def allowed(self, since=None, until=None, sources=None) -> np.ndarray:
        return self.chunk_ids[self.mask(since, until, sources)]

    def describe(self, chunk_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
        """chunk id -> (outlet, published) for the indexed, alive ones among `chunk_ids`."""
        if not chunk_ids or self.size == 0:
            return {}
        ids = np.asarray(chunk_ids, dtype=np.int64)
        at = np.clip(np.searchsorted(self.chunk_ids, ids), 0, self.size - 1)
        ok = (self.chunk_ids[at] == ids) & self.alive[at]
        names = self.source_names
        return {
            cid: (names[code] if code >= 0 else None, day.decode() or None)
            for cid, code, day in zip(
                ids[ok].tolist(), self.sources[at[ok]].tolist(), self.published[at[ok]].tolist(), strict=True
            )
        }

    def discard(self, chunk_ids: Iterable[int]) -> None:
        """Mask out passages removed from SQLite since the build."""
        ids = np.asarray(list(chunk_ids), dtype=np.int64)
        if len(ids) == 0 or self.size == 0:
            return
        at = np.clip(np.searchsorted(self.chunk_ids, ids), 0, self.size - 1)
        at = np.unique(at[(self.chunk_ids[at] == ids) & self.alive[at]])
        self.alive[at] = False
        self.dead += len(at)
        self._masks = {}

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def build(cls, corpus: Corpus, progress: Callable[[int], None] | None = None) -> ImpactIndex:
        """FTS5's bm25() contributions, term by term: idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len
        / avglen)) with f the passage's column-weighted count of the term.

        The postings come grouped by term (FTS5 lists its vocabulary in order), so a term's idf is
        known as soon as the next term starts: its impacts are computed then. The build holds little
        more than the final arrays (4 + 2 bytes per (term, passage) pair, 0.5 GB at a million
        passages), grown in place, and the column-weighted counts of the one term still open."""
        ids, n = corpus.chunk_ids, len(corpus.chunk_ids)
        avgdl = float(corpus.lengths.sum()) / n if n else 1.0
        norm = (K1 * (1 - B + B * corpus.lengths / avgdl)).astype(np.float32)
        term_ids: dict[str, int] = {}
        df: list[np.ndarray] = []  # pairs of each closed term, in term id order
        docs = np.empty(_START, dtype=np.int32)  # passage positions of all pairs read so far
        impacts = np.empty(_START, dtype=np.float16)  # filled up to `opened`
        size = opened = 0  # pairs read; the open term's first pair
        open_f: list[np.ndarray] = []  # the open term's column-weighted counts, per batch
        last = -1  # the open term's id

        def close(starts: np.ndarray, f: np.ndarray) -> None:
            """Impacts of the open term and of those that started and ended since, up to the last
            of `starts` (pair positions where a term begins), whose idf is now known."""
            nonlocal opened
            counts = np.diff(starts, prepend=opened)
            df.append(counts)
            dfs = counts.astype(np.float64)
            idf = np.log((n - dfs + 0.5) / (dfs + 0.5))
            idf[idf <= 0] = 1e-6  # as FTS5 does for terms in more than half the rows
            end = int(starts[-1])
            impacts[opened:end] = np.repeat(idf, counts) * f * (K1 + 1) / (f + norm[docs[opened:end]])
            opened = end

        seen = 0
        for terms, rows, weights in corpus.postings:
            tid = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in terms), np.int64, len(terms))
            if len(tid) and (tid[0] < last or np.any(tid[1:] < tid[:-1])):
                raise ValueError(
                    "the postings are not grouped by term (a term came back after another); "
                    "the impact index needs them in FTS5's vocabulary order"
                )
            pos = np.searchsorted(ids, rows).astype(np.int32)
            # rows come ordered by (term, passage): sum each pair's column weights
            new = np.ones(len(tid), dtype=bool)
            new[1:] = (tid[1:] != tid[:-1]) | (pos[1:] != pos[:-1])
            pairs = np.flatnonzero(new)
            weights = weights.astype(np.float32)
            f = np.add.reduceat(weights, pairs) if len(pairs) else weights[:0]
            tid, pos = tid[pairs], pos[pairs]
            if len(tid) and tid[0] == last and pos[0] == docs[size - 1]:
                open_f[-1][-1] += f[0]  # a pair split between two batches
                tid, pos, f = tid[1:], pos[1:], f[1:]
            if len(tid):
                _room(docs, size + len(tid))
                _room(impacts, size + len(tid))
                docs[size : size + len(tid)] = pos
                begins = np.flatnonzero(tid[1:] != tid[:-1]) + 1  # terms starting in this batch
                if 0 <= last != tid[0]:
                    begins = np.concatenate(([0], begins))
                if len(begins):  # the open term and any before the batch's last one are complete
                    cut = int(begins[-1])
                    close(size + begins, np.concatenate([*open_f, f[:cut]]))
                    open_f = [f[cut:]]
                else:
                    open_f.append(f)
                size += len(tid)
                last = int(tid[-1])
            seen += len(terms)
            if progress:
                progress(seen)
        if size:
            close(np.array([size]), np.concatenate(open_f))
        docs.resize(size, refcheck=False)  # the slack goes back in place
        impacts.resize(size, refcheck=False)
        indptr = np.zeros(len(term_ids) + 1, dtype=np.int64)
        if df:
            np.cumsum(np.concatenate(df), out=indptr[1:])
        return cls(
            terms=list(term_ids),
            indptr=indptr,
            docs=docs,
            impacts=impacts,
            chunk_ids=ids,
            published=corpus.published,
            sources=corpus.sources,
            source_names=corpus.source_names,
            skipped=corpus.skipped,
            seq=corpus.seq,
        )

    # -- persistence ----------------------------------------------------------------------------

    ARRAYS = ("indptr", "docs", "impacts", "chunk_ids", "published", "sources")

    def save(self, folder: Path) -> Path:
        """Write a new version beside the live one, then point CURRENT at it in one rename."""

        def write(staging: Path) -> None:
            for name in self.ARRAYS:
                np.save(staging / f"{name}.npy", getattr(self, name))
            # The vocabulary goes in a file of its own, one term a line (an FTS5 term holds no
            # whitespace), read back in slices: parsed as one JSON list, a large store's would hold
            # the serving process's GIL in one long call (docs/performance.md).
            with open(staging / "terms.txt", "w", encoding="utf-8", newline="") as handle:
                handle.writelines(f"{term}\n" for term in self.term_ids)
            meta = {
                "format": FORMAT,
                "source_names": self.source_names,
                "skipped": sorted(self.skipped),
                "max_id": self.max_id,
                "passages": self.size,
                "seq": self.seq,
                "pid": os.getpid(),  # the process that built it (the bot's builds run in a child)
            }
            write_atomic(staging / "meta.json", json.dumps(meta))

        return publish(folder, write)

    @classmethod
    def load(cls, folder: Path) -> ImpactIndex | None:
        """The live version (arrays memory-mapped), or None if there is none or it is unreadable."""
        try:
            live = current_version(folder)
            if live is None:
                return None
            meta = json.loads((live / "meta.json").read_text())
            if meta.get("format") != FORMAT:
                return None
            arrays = {name: np.load(live / f"{name}.npy", mmap_mode="r") for name in cls.ARRAYS}
            terms = meta["terms"] if "terms" in meta else _read_terms(live / "terms.txt")
        except (OSError, ValueError, KeyError) as error:
            if (folder / "CURRENT").exists():
                log.warning("ignoring the lexical index in %s (%s); FTS5 ranks everything", folder, error)
            return None
        return cls(
            terms=terms,
            source_names=meta["source_names"],
            skipped=frozenset(meta["skipped"]),
            seq=int(meta.get("seq", 0)),
            **arrays,
        )


def _read_terms(path: Path, piece: int = 1 << 20) -> list[str]:
    """The lines of `path`, read a MB at a time (no one call holds the GIL long)."""
    terms: list[str] = []
    rest = ""
    with open(path, encoding="utf-8", newline="") as handle:
        while chunk := handle.read(piece):
            lines = (rest + chunk).split("\n")
            rest = lines.pop()
            terms.extend(lines)
    if rest:
        raise ValueError(f"{path} ends in the middle of a term")
    return terms


def saved_seq(folder: Path) -> int | None:
    """The change log position the saved impact index reflects (0 for one saved before the log);
    None if there is none."""
    live = current_version(folder)
    if live is None:
        return None
    try:
        return int(json.loads((live / "meta.json").read_text()).get("seq", 0))
    except (OSError, ValueError):
        return 0


def needs_build(index: ImpactIndex | None, tail: int, *, minimum: int = 5000, share: float = 0.1) -> bool:
    """Whether enough passages wait outside the impact index to rebuild it after an ingest."""
    covered = index.size if index is not None else 0
    return tail >= minimum and tail >= share * covered


def _best(scores: np.ndarray, limit: int, step: int = 16) -> np.ndarray:
    """Positions of the `limit` best positive scores, perhaps with a few more (the caller cuts).

    A partial sort of a million scores is slow; instead a threshold is read off every `step`-th
    score (its 3·limit/step-th best, so about 3·limit scores pass it), and if at least `limit` scores
    pass, the best `limit` are all among them. Otherwise the full partial sort."""
    sample = scores[::step]
    want = 3 * limit // step + 4
    if want < len(sample):
        threshold = np.partition(sample, len(sample) - want)[len(sample) - want]
        if threshold > 0:
            above = np.flatnonzero(scores >= threshold)
            if len(above) >= limit:
                return above
    best = np.argpartition(-scores, min(limit, len(scores)) - 1)[:limit]
    return best[scores[best] > 0]


# The build's arrays start with room for 16M pairs (not resident until written) and grow 4M pairs at a
# time. They are enlarged in place: a realloc, which for blocks this large is an mremap (Linux), with
# neither a copy nor a second resident array as np.concatenate or doubling would make.
_START, _GROW = 1 << 24, 1 << 22


def _room(array: np.ndarray, size: int) -> None:
    """Enlarge `array` in place (the callers hold no views of it across this) to hold `size` items."""
    if size > len(array):
        array.resize(max(size, len(array) + _GROW), refcheck=False)
