"""News text the preparation calibrates on and checks against: passages of the bundled news, spread
over many articles, shaped as the index embeds them (a title, then about 230 tokens of body)."""

from __future__ import annotations

import json
from pathlib import Path

NEWS = Path(__file__).resolve().parents[2] / "news" / "articles.jsonl"
_FALLBACK_TEXTS = (
    "The central bank raised interest rates by a quarter point on Wednesday, citing persistent inflation.",
    "Flooding closed roads across the region after two days of heavy rain; residents were told to stay in.",
    "The company reported quarterly profit above expectations as demand for its chips kept growing.",
    "Lawmakers passed the budget late on Friday after weeks of negotiations over spending on health care.",
    "Scientists said the new vaccine was safe and effective in a trial involving thirty thousand people.",
    "The striker scored twice in the second half to give the home side a 3-1 win in the cup final.",
)


def calibration_texts(exclude: set[str], limit: int = 64) -> list[str]:
    """News passages for calibration, none of them among the check passages."""
    texts = [t for t in check_texts(limit=1_000_000) if t not in exclude][::3][:limit]
    return texts or list(_FALLBACK_TEXTS)


def news_articles() -> list[dict]:
    """The bundled news (none when the project's news folder is absent)."""
    if not NEWS.exists():
        return []
    return [json.loads(line) for line in NEWS.read_text().splitlines() if line.strip()]


def check_texts(limit: int = 48, words: int = 170) -> list[str]:
    """Passages of about 230 tokens (title + body slice) from the bundled news, as the index embeds."""
    texts: list[str] = []
    for record in news_articles():
        body = record.get("body", "").split()
        for start in range(0, len(body), words * 3):  # spread over many articles
            texts.append(f"{record.get('title') or ''}\n{' '.join(body[start : start + words])}")
    if not texts:
        texts = list(_FALLBACK_TEXTS)
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]
