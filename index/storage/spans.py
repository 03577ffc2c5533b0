"""The sentence spans column (`chunks.sentences`, `sentence_vectors.spans`): written and read
only through this codec."""

from __future__ import annotations


def encode_spans(spans: list[tuple[int, int]]) -> str:
    """[(0, 12), (13, 40)] -> '0:12 13:40' (the column is read on every search: compact, quick to parse)."""
    return " ".join(f"{start}:{end}" for start, end in spans)


def decode_spans(text: str | None) -> list[tuple[int, int]] | None:
    if text is None:
        return None
    numbers = list(map(int, text.replace(":", " ").split()))
    return list(zip(numbers[::2], numbers[1::2], strict=True))
