"""The embedding cache: passage vectors and pooled sentence vectors, keyed by embed key."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from sqlite_utils import Database

from .select import placeholders, select_in
from .spans import decode_spans, encode_spans


def pack(vectors: np.ndarray) -> bytes:
    """int8 rows with a float32 scale each (cosine to the original above 0.9999)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127.0
    codes = np.round(vectors / np.maximum(scales, 1e-12)[:, None]).astype(np.int8)
    return scales.astype(np.float32).tobytes() + codes.tobytes()


def unpack(blob: bytes, count: int) -> np.ndarray:
    """The (count, dim) float32 vectors of `pack`."""
    scales = np.frombuffer(blob, dtype=np.float32, count=count)
    codes = np.frombuffer(blob, dtype=np.int8, offset=4 * count)
    return codes.reshape(count, -1).astype(np.float32) * scales[:, None]


class EmbeddingCache:
    """Vectors keyed by what was embedded, so an unchanged passage is never embedded twice."""

    db: Database
    lock: threading.RLock

    def vectors(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self.lock:
            for i in range(0, len(keys), 500):
                batch = keys[i : i + 500]
                sql = f"SELECT key, vector FROM embeddings WHERE key IN ({placeholders(batch)})"
                for key, blob in self.db.execute(sql, batch):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def sample_vectors(self, count: int, seed: int = 0) -> np.ndarray:
        """The stored embeddings of `count` passages picked at random (all of them if fewer)."""
        ids = self.chunk_ids()
        if count < len(ids):
            ids = np.sort(np.random.default_rng(seed).choice(ids, count, replace=False))
        rows: list[np.ndarray] = []
        for start in range(0, len(ids), 500):  # the lock is held one batch at a time: searches go on
            batch = ids[start : start + 500].tolist()
            sql = (
                "SELECT e.vector FROM chunks c CROSS JOIN embeddings e ON e.key = c.embed_key "
                "WHERE c.id IN ({marks})"
            )
            blobs = select_in(self.db, self.lock, sql, batch)
            rows.extend(np.frombuffer(blob, dtype=np.float32) for (blob,) in blobs)
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def put_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self.lock:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO embeddings (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    def chunk_embed_keys(self, page: int = 10_000) -> Iterator[list[tuple[int, str, str, str]]]:
        """(chunk id, embed key, article title, chunk text) of every indexed passage, in pages by id
        (a million passages never sit in memory at once; the lock is held one page at a time)."""
        after = 0
        while True:
            with self.lock:
                rows = self.db.execute(
                    "SELECT c.id, c.embed_key, a.title, c.text FROM chunks c "
                    "CROSS JOIN articles a ON a.id = c.article_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
                    [after, page],
                ).fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def prune_vectors(self) -> int:
        """Drop embeddings no passage uses (e.g. of a previous model)."""
        with self.write():
            cursor = self.db.execute("DELETE FROM embeddings WHERE key NOT IN (SELECT embed_key FROM chunks)")
            self.db.execute("DELETE FROM sentence_vectors WHERE key NOT IN (SELECT embed_key FROM chunks)")
        return cursor.rowcount

    def put_sentence_vectors(self, rows: dict[str, tuple[list[tuple[int, int]], np.ndarray]]) -> None:
        """key -> (sentence spans in the passage, their vectors), replacing older ones."""
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO sentence_vectors (key, spans, vectors) VALUES (?, ?, ?)",
                [(key, encode_spans(spans), pack(vectors)) for key, (spans, vectors) in rows.items()],
            )

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, dict[tuple[int, int], np.ndarray]]:
        """chunk id -> {sentence span in the passage: its pooled vector} for the passages that have them
        (those embedded by a backend that pools them; an empty span list has none)."""
        sql = (
            "SELECT c.id, s.spans, s.vectors FROM chunks c CROSS JOIN sentence_vectors s "
            "ON s.key = c.embed_key WHERE c.id IN ({marks})"
        )
        rows = select_in(self.db, self.lock, sql, list(chunk_ids))
        found = {}
        for chunk_id, spans, blob in rows:
            spans = decode_spans(spans) or []
            vectors = unpack(blob, len(spans)) if spans else []
            found[chunk_id] = {span: v for span, v in zip(spans, vectors, strict=True) if v.any()}
        return found
