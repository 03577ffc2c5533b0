"""Sentence vectors pooled from a passage's own token embeddings ("late chunking"), kept for answers.

Answering ranks a question's candidate sentences by their cosine to it. Embedding each of up to 64
candidates alone costs far more CPU than the search itself (docs/performance.md). But the model already
read every sentence when it embedded its passage at ingest: the mean of its output token embeddings
over a sentence's tokens is a vector of that sentence in the context of its passage, for free. These
vectors rank the candidates; only the best few (`index.answers.extract.EMBED_BEST`) are then embedded
alone for the final scores. On the MultiHop-RAG dev questions this kept the answers' quality
(docs/answers.md) at a fraction of the cost. Before ranking, they go through a linear map towards the
vectors their sentences get alone (`aligned`), fitted at export on the bundled news.

Stored per passage (keyed like its embedding, by the embedded text) as int8 with one scale per vector:
384 bytes a sentence instead of 1,536.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pool(
    tokens: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Sequence[tuple[int, int]]
) -> np.ndarray:
    """(len(spans), dim) normalised means of the token embeddings whose characters fall in each span;
    a zero row for a span with no token (cut off by the model's length limit)."""
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])  # no padding, no special tokens
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    inside = real[None, :] & (offsets[None, :, 1] > bounds[:, :1]) & (offsets[None, :, 0] < bounds[:, 1:])
    counts = inside.sum(axis=1, keepdims=True)
    sums = inside.astype(np.float32) @ tokens.astype(np.float32)
    means = sums / np.maximum(counts, 1)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return np.where(counts > 0, means / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def aligned(vectors: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Pooled vectors mapped towards their sentences' own embeddings (index/embedding/sentence_map.py),
    normalised."""
    mapped = np.asarray(vectors, dtype=np.float32) @ matrix
    return mapped / np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)
