"""From an article body to stored passages with their embeddings (reused when already computed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ..storage.records import NewChunk
from ..storage.store import Store
from ..text import sentence_spans
from .chunking import chunk_spans
from .embedder import Embedder

TITLE_TOKENS = 32  # the article title embedded with each passage as context, at most this long


class Passager:
    """Chunks bodies to fit the model and embeds `title + passage`, reusing stored vectors."""

    def __init__(
        self, embedder: Embedder, store: Store, *, chunk_tokens: int = 0, overlap_sentences: int = 1
    ):
        self.embedder = embedder
        self.store = store
        room = embedder.max_tokens - TITLE_TOKENS - 1
        self.max_tokens = min(chunk_tokens, room) if chunk_tokens else room
        self.overlap = overlap_sentences
        self.embedded = 0  # texts embedded so far (the rest came from the store)

    def chunk(self, title: str, body: str) -> list[NewChunk]:
        spans = chunk_spans(body, self.embedder.count_tokens, self.max_tokens, self.overlap)
        heading = self.heading(title)
        return [
            NewChunk(i, start, end, body[start:end], self.key(embed_text(heading, body[start:end])))
            for i, (start, end) in enumerate(spans)
        ]

    def heading(self, title: str) -> str:
        """The title cut (between words) to TITLE_TOKENS so title + passage never exceeds the model."""
        words = title.split()
        while words and self.embedder.count_tokens([" ".join(words)])[0] > TITLE_TOKENS:
            words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
        return " ".join(words)

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.embedder.name}\0{text}".encode()).hexdigest()

    def vectors_for(
        self, items: Sequence[tuple[str, str, str]], *, reuse: bool = True
    ) -> dict[str, np.ndarray]:
        """key -> vector for (key, heading, passage) items, embedding `embed_text(heading, passage)` only
        for those not stored yet. An embedder that pools sentence vectors from the same run
        (index/embedding/sentence_vectors.py) gets the passages' sentences, and those vectors are stored
        too."""
        known = self.store.vectors(k for k, _, _ in items) if reuse else {}
        missing = {k: (heading, passage) for k, heading, passage in items if k not in known}
        if missing:
            texts = [embed_text(heading, passage) for heading, passage in missing.values()]
            if getattr(self.embedder, "pools_sentences", False):
                passages = [passage for _, passage in missing.values()]
                spans = [sentence_spans(passage) for passage in passages]
                # the passage ends its embedded text: its sentences' offsets there are shifted
                shifted = [
                    [(s + len(text) - len(passage), e + len(text) - len(passage)) for s, e in sp]
                    for text, passage, sp in zip(texts, passages, spans, strict=True)
                ]
                fresh, pooled = self.embedder.embed_passages(texts, shifted)
                self.store.put_sentence_vectors(
                    {key: (sp, vectors) for key, sp, vectors in zip(missing, spans, pooled, strict=True)}
                )
            else:
                fresh = self.embedder.embed(texts)
            self.embedded += len(missing)
            known.update(zip(missing.keys(), fresh, strict=True))
        return known

    def embed_chunks(
        self, title: str, chunks: Sequence[NewChunk], *, reuse: bool = True
    ) -> dict[str, np.ndarray]:
        heading = self.heading(title)
        return self.vectors_for([(c.embed_key, heading, c.text) for c in chunks], reuse=reuse)


def embed_text(heading: str, passage: str) -> str:
    return f"{heading}\n{passage}" if heading else passage
