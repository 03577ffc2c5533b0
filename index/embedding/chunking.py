"""Sentence-aware passages that fit the embedding model's input, with overlap and exact offsets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..text import sentence_spans

CountTokens = Callable[[Sequence[str]], list[int]]
_WORDS = re.compile(r"\S+")


def chunk_spans(
    body: str, count_tokens: CountTokens, max_tokens: int, overlap_sentences: int = 1
) -> list[tuple[int, int]]:
    """(start, end) offsets of passages of whole sentences, each at most `max_tokens` model tokens.

    A sentence longer than the budget is cut between words (never inside one), so no text is
    ever past what the model reads. Consecutive passages share `overlap_sentences` sentences.
    """
    if max_tokens < 8:
        raise ValueError("max_tokens is too small to chunk text")
    pieces = _pieces(body, count_tokens, max_tokens)
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(pieces):
        last, total = first, 0
        while last < len(pieces) and total + pieces[last][2] <= max_tokens:
            total += pieces[last][2]
            last += 1
        chunks.append((pieces[first][0], pieces[last - 1][1]))
        if last >= len(pieces):
            break
        first = max(last - overlap_sentences, first + 1)
    return chunks


def _pieces(body: str, count_tokens: CountTokens, max_tokens: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, tokens); over-long sentences split into word runs that fit."""
    spans = sentence_spans(body)
    counts = count_tokens([body[s:e] for s, e in spans])
    pieces: list[tuple[int, int, int]] = []
    for (start, end), n in zip(spans, counts, strict=True):
        if n <= max_tokens:
            pieces.append((start, end, n))
        else:
            pieces.extend(_split_words(body, start, end, count_tokens, max_tokens))
    return pieces


def _split_words(
    body: str, start: int, end: int, count_tokens: CountTokens, max_tokens: int
) -> list[tuple[int, int, int]]:
    words = [(m.start(), m.end()) for m in _WORDS.finditer(body, start, end)]
    counts = count_tokens([body[s:e] for s, e in words])
    runs: list[tuple[int, int, int]] = []
    run_start: int | None = None
    total, prev_end = 0, start
    for (s, e), n in _split_giant_words(words, counts, max_tokens):
        if run_start is not None and total + n > max_tokens:
            runs.append((run_start, prev_end, total))
            run_start, total = None, 0
        if run_start is None:
            run_start = s
        total += n
        prev_end = e
    if run_start is not None:
        runs.append((run_start, prev_end, total))
    return runs


def _split_giant_words(
    words: list[tuple[int, int]], counts: list[int], max_tokens: int
) -> list[tuple[tuple[int, int], int]]:
    """A "word" longer than the budget (a pasted URL, a hash) is cut every `max_tokens` characters:
    a token covers at least one character, so each cut fits."""
    out: list[tuple[tuple[int, int], int]] = []
    for (s, e), n in zip(words, counts, strict=True):
        if n <= max_tokens:
            out.append(((s, e), n))
            continue
        for cut in range(s, e, max_tokens):
            out.append(((cut, min(cut + max_tokens, e)), min(max_tokens, e - cut)))
    return out
