"""Embedders that run an exported graph (ONNX Runtime or OpenVINO) with the model's own tokenizer.

No torch at run time: loading takes a fraction of a second, and token counts come from the same
tokenizer.json that sentence-transformers uses, so chunk budgets are identical to the torch backend.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import embedder_name
from .graph import OnnxRuntimeGraph, Tokens, open_graph, recorded_cosine
from .sentence_vectors import pool as pool_spans


class GraphEmbedder:
    """The Embedder protocol over a prepared graph; `backend` is one of `choose.CANDIDATES`."""

    def __init__(self, model: str, folder: Path, manifest: dict, backend: str, *, batch_size: int = 32):
        self.backend = backend
        self.name = embedder_name(model, backend)
        self.folder = folder
        self.dimension = int(manifest["dimension"])
        self.max_tokens = int(manifest["max_seq_length"]) - int(manifest["special_tokens"])
        self.cosine_to_fp32 = recorded_cosine(manifest, backend)[0]
        # Dynamic int8 scales activations over a whole run, so a batched text would get a vector that
        # depends on its neighbours (and their padding). One text per run keeps each vector a function
        # of its text alone, and measured no slower (no padding either). OpenVINO's int8 is static.
        self.batch_size = 1 if backend == "onnx-int8" else batch_size
        self.tokens = Tokens(folder / "tokenizer.json", manifest)
        # pooled sentence vectors -> towards the sentences' own vectors (sentence_map.py), if fitted
        mapped = manifest.get("sentence_map", {}).get("file")
        self.sentence_map: np.ndarray | None = np.load(folder / mapped) if mapped else None
        self.graph = open_graph(folder, manifest, backend)
        # One text per run parallelises poorly inside a run (small matrices, a sync per operator), so
        # texts go to one single-threaded session per core, side by side: more passages/s, identical
        # vectors. One text uses every core in one run only when no session is free.
        self.workers: list[OnnxRuntimeGraph] = []
        if self.batch_size == 1 and (os.cpu_count() or 1) > 1:
            self.workers = [
                open_graph(folder, manifest, backend, threads=1) for _ in range(os.cpu_count() or 1)
            ]
            self.pool = ThreadPoolExecutor(len(self.workers), thread_name_prefix="embed")
            self.idle: queue.SimpleQueue[OnnxRuntimeGraph] = queue.SimpleQueue()
            for worker in self.workers:
                self.idle.put(worker)

    def close(self) -> None:
        if self.workers:
            self.pool.shutdown()

    @property
    def pools_sentences(self) -> bool:
        """Whether `embed_passages` can pool sentence vectors (graphs of this exporter give tokens)."""
        return self.graph.has_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, None)[0]

    def embed_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors (as `embed` gives them) and, per text, one vector per span of it: its
        tokens' output embeddings pooled (`index.embedding.sentence_vectors.pool`), at no extra model cost."""
        if not self.pools_sentences:
            raise RuntimeError(f"the {self.backend} backend cannot pool sentence vectors")
        return self._embed(texts, spans)

    def _embed(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)

        def run(graph, chosen: list[int]) -> None:
            ids, mask, offsets = self.tokens.batch([texts[i] for i in chosen])
            if spans is None:
                out[chosen] = graph(ids, mask)
                return
            out[chosen], tokens = graph.with_tokens(ids, mask)
            for row, i in enumerate(chosen):
                pooled[i] = pool_spans(tokens[row], offsets[row], mask[row], spans[i])

        # Longest first, in batches of similar length, so little of each batch is padding.
        lengths = [len(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        if self.workers and len(texts) > 1:

            def one(i: int) -> None:  # ONNX Runtime releases the GIL while it runs
                graph = self.idle.get()  # texts go to whichever session is free: no core waits
                try:
                    run(graph, [i])
                finally:
                    self.idle.put(graph)

            list(self.pool.map(one, order))
        elif self.workers and (graph := _idle(self.idle)) is not None:
            # One text (a question) on one core: as fast as on two, and the other core is left to
            # the BM25 search that runs meanwhile.
            try:
                run(graph, order)
            finally:
                self.idle.put(graph)
        else:
            for start in range(0, len(order), self.batch_size):
                run(self.graph, order[start : start + self.batch_size])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32), pooled

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.tokens.count(texts) if texts else []


def _idle(sessions: queue.SimpleQueue) -> OnnxRuntimeGraph | None:
    try:
        return sessions.get_nowait()
    except queue.Empty:
        return None
