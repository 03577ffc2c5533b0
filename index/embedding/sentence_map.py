"""A linear map from pooled sentence vectors towards those of the same sentences embedded alone,
fitted once at export on the bundled news.

A sentence's pooled vector (index/embedding/sentence_vectors.py) comes from its passage's run of the
model, so it
carries the passage's context, and the sentences of one passage look more alike to a question than they
are. Answers rank their candidate sentences by pooled vectors and embed only the best few alone, so it is
that ranking within passages that matters. A ridge regression from pooled to alone vectors, fitted on the
bundled news' sentences, undoes part of it. On passages of articles kept out of the fit, their sentences
ranked against their article's title by mapped pooled vectors agree with their ranking by alone vectors
at a mean correlation of 0.62 instead of 0.56 (recorded in the manifest; the mean cosine to the alone
vectors barely moves, 0.704 to 0.708). On the MultiHop-RAG dev questions, 6 candidates embedded alone
after the map cite as many answers as 8 without it, where 6 without it cite 3.7 points fewer
(docs/answers.md). Applying it costs one small matrix product per answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..text import sentence_spans
from .chunking import chunk_spans
from .graph import Tokens
from .sentence_vectors import pool

FILE = "sentence-map.npy"
RIDGE = 1.0  # dev questions ranked alike for 0.3-3 (a map fitted on 6,100 news sentences)
PASSAGE_STEP = 2  # every 2nd passage of the bundled news: about 2,700 sentences, fitted once at export
MIN_SENTENCES = 500  # fewer (no bundled news) fit no useful map: the pooled vectors are used as they are
HELD_OUT = 5  # every 5th article's sentences are kept out of the fit to check the map
TITLE_WORDS = 12  # passages embed a short heading, as the index does


def fit(pooled: np.ndarray, alone: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """The (dim, dim) matrix M minimising |pooled·M − alone|² + ridge·|M|²."""
    gram = pooled.T @ pooled + ridge * np.eye(pooled.shape[1], dtype=np.float64)
    return np.linalg.solve(gram, pooled.T.astype(np.float64) @ alone).astype(np.float32)


def agreement(pooled: np.ndarray, alone: np.ndarray, queries: np.ndarray, passages: np.ndarray) -> float:
    """Mean over passages (of 3 sentences or more) of the correlation between their sentences' scores
    against a query (row i's in `queries`) by pooled and by alone vectors: 1 is the same ranking."""
    pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    guess, truth = np.sum(pooled * queries, axis=1), np.sum(alone * queries, axis=1)
    found = [
        np.corrcoef(guess[rows], truth[rows])[0, 1]
        for rows in (np.flatnonzero(passages == p) for p in np.unique(passages))
        if len(rows) >= 3
    ]
    return float(np.nanmean(found)) if found else float("nan")


def build(open_graph: Callable[[], Any], work: Path, manifest: dict, articles: Sequence[dict]) -> dict:
    """Fit the map with the pooled and alone vectors of the articles' sentences from the graph that
    `open_graph()` opens (single-threaded; one per core); save it in `work` and return what the
    manifest records of it (no file when there were too few sentences)."""
    tokens = Tokens(work / "tokenizer.json", manifest)
    room = int(manifest["max_seq_length"]) - int(manifest["special_tokens"]) - 33
    texts, spans, groups = [], [], []
    for number, article in enumerate(articles):
        heading = " ".join((article.get("title") or "").split()[:TITLE_WORDS])
        body = article.get("body") or ""
        for start, end in chunk_spans(body, tokens.count, room, 0)[number % PASSAGE_STEP :: PASSAGE_STEP]:
            text = f"{heading}\n{body[start:end]}" if heading else body[start:end]
            shift = len(text) - (end - start)
            found = [(s + shift, e + shift) for s, e in sentence_spans(body[start:end]) if e - s > 20]
            if found:
                texts.append(text)
                spans.append(found)
                groups.append(number)
    workers = [open_graph() for _ in range(os.cpu_count() or 1)]

    def passage(session, i: int) -> np.ndarray:
        ids, mask, offsets = tokens.batch([texts[i]])
        _, out = session.with_tokens(ids, mask)
        return pool(out[0], offsets[0], mask[0], spans[i])

    pooled = _spread(workers, passage, range(len(texts)))
    rows = [(i, j) for i, vectors in enumerate(pooled) for j in range(len(vectors)) if vectors[j].any()]
    if len(rows) < MIN_SENTENCES:
        return {"file": None, "sentences": len(rows)}
    held = np.array([groups[i] % HELD_OUT == HELD_OUT - 1 for i, _ in rows])
    titles = {
        groups[i]: articles[groups[i]].get("title") or "" for (i, _), h in zip(rows, held, strict=True) if h
    }
    sentences = [texts[i][slice(*spans[i][j])] for i, j in rows] + list(titles.values())

    def embed(session, text: str) -> np.ndarray:
        vector = session(*tokens.batch([text])[:2])[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    alone = np.stack(_spread(workers, embed, sentences))
    title_of = dict(zip(titles, alone[len(rows) :], strict=True))
    alone, pooled_rows = alone[: len(rows)], np.stack([pooled[i][j] for i, j in rows])
    matrix = fit(pooled_rows[~held], alone[~held])
    np.save(work / FILE, matrix)
    recorded = {"file": FILE, "fitted_on": int((~held).sum()), "checked_on": int(held.sum()), "ridge": RIDGE}
    checked = [r for r, h in zip(rows, held, strict=True) if h]
    if checked:
        queries = np.stack([title_of[groups[i]] for i, _ in checked])
        passages = np.array([i for i, _ in checked])
        for name, vectors in (("before", pooled_rows[held]), ("after", pooled_rows[held] @ matrix)):
            recorded[f"agreement_{name}"] = round(agreement(vectors, alone[held], queries, passages), 4)
    return recorded


def _spread(workers: list, work: Callable, items) -> list:
    """work(session, item) for every item, the sessions side by side, results in the items' order."""
    items, n = list(items), len(workers)
    with ThreadPoolExecutor(n) as pool:
        parts = list(pool.map(lambda k: [work(workers[k], x) for x in items[k::n]], range(n)))
    out: list = [None] * len(items)
    for k, part in enumerate(parts):
        out[k::n] = part
    return out
