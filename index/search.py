"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused, capped per article."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .embedder import Embedder
from .models import Hit
from .store import Filters, Store
from .vectors import VectorIndex


@dataclass(frozen=True)
class FusionWeights:
    """Scores are normalised per list (top score = 1) and combined; lexical is stronger on news."""

    lexical: float = 0.6
    dense: float = 0.4
    candidates: int = 100


def hybrid_search(
    query: str,
    *,
    store: Store,
    vectors: VectorIndex | None,
    embedder: Embedder | None,
    k: int = 10,
    filters: Filters | None = None,
    per_article: int = 2,
    weights: FusionWeights | None = None,
) -> list[Hit]:
    filters = filters or Filters()
    weights = weights or FusionWeights()
    lexical = store.lexical(query, weights.candidates, filters)
    dense: list[tuple[int, float]] = []
    if vectors is not None and embedder is not None and vectors.count:
        allowed = store.allowed_chunk_ids(filters) if filters.active else None
        dense = vectors.search(embedder.embed([query])[0], weights.candidates, allowed)
    fused = fuse(lexical, dense, weights)
    return _hits(store, fused, k, filters, per_article)


def fuse(
    lexical: list[tuple[int, float]], dense: list[tuple[int, float]], weights: FusionWeights
) -> list[tuple[int, float]]:
    """Weighted sum of per-list normalised scores, best first."""
    scores: dict[int, float] = defaultdict(float)
    for results, weight in ((lexical, weights.lexical), (dense, weights.dense)):
        if not results:
            continue
        top = max(score for _, score in results) or 1.0
        for chunk_id, score in results:
            scores[chunk_id] += weight * max(score, 0.0) / top
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _hits(
    store: Store, fused: list[tuple[int, float]], k: int, filters: Filters, per_article: int
) -> list[Hit]:
    rows = store.passages([chunk_id for chunk_id, _ in fused], filters)
    per: dict[str, int] = defaultdict(int)
    hits: list[Hit] = []
    for chunk_id, score in fused:
        row = rows.get(chunk_id)
        if row is None or per[row[1]] >= per_article:
            continue  # filtered out, removed meanwhile, or its article already has enough passages
        per[row[1]] += 1
        _, article_id, start, end, text, title, source, url, published = row
        hits.append(
            Hit(
                chunk_id=chunk_id,
                article_id=article_id,
                title=title,
                source=source,
                url=url,
                published=published,
                excerpt=text,
                start=start,
                end=end,
                score=float(np.float32(score)),
                also_reported_by=tuple(store.outlets_of(article_id)),
            )
        )
        if len(hits) >= k:
            break
    return hits
