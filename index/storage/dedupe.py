"""Near-duplicate detection with MinHash over word shingles, banded for lookup in SQLite.

The same wire story republished by several outlets differs by a headline, a byline or a sentence;
its shingles mostly agree, so its MinHash signatures agree in most positions.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

PERMUTATIONS = 96
BANDS = 32  # 32 bands of 3 rows: pairs above ~0.5 Jaccard share a band with high probability
SHINGLE = 5
THRESHOLD = 0.6  # estimated Jaccard of 5-word shingles: distinct articles on one topic score < 0.1

_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20240229)
_A = _rng.integers(1, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[int]:
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        return {_hash(" ".join(words))} if words else set()
    return {_hash(" ".join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)}


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 4


def signature(text: str) -> np.ndarray:
    values = np.fromiter(shingles(text), dtype=np.uint64)
    if values.size == 0:
        return np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    # (a*x + b) mod p in wrapping uint64 arithmetic: a fixed, deterministic family of hash functions
    hashed = (values[None, :] % _PRIME * _A[:, None] + _B[:, None]) % _PRIME
    return hashed.min(axis=1)


def bands(sig: np.ndarray) -> list[str]:
    rows = PERMUTATIONS // BANDS
    return [
        f"{b}:{hashlib.sha1(sig[b * rows : (b + 1) * rows].tobytes()).hexdigest()[:16]}" for b in range(BANDS)
    ]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def find_near_duplicate(sig: np.ndarray, candidates: dict[str, bytes]) -> str | None:
    """The stored article most like `sig`, if it is similar enough to be the same story."""
    best, best_score = None, THRESHOLD
    for article_id, blob in candidates.items():
        score = similarity(sig, np.frombuffer(blob, dtype=np.uint64))
        if score >= best_score:
            best, best_score = article_id, score
    return best
