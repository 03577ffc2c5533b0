"""Retrieval metrics exactly as the MultiHop-RAG benchmark defines them (Tang & Yang, COLM 2024).

A passage matches an evidence fact when the fact, with every space and newline removed, is a substring
of the passage with every space and newline removed (other whitespace, case and punctuation count).
Only the top 10 passages are looked at. Per query:

- Hits@10 / Hits@4: 1 if a matching passage is in the top 10 / top 4, else 0.
- MRR@10: 1 / rank of the first matching passage (0 if none in the top 10).
- MAP@10: sum over ranks r of (number of facts first matched at rank r) / r, divided by
  min(number of facts, 10). A fact matched again lower down counts once; the facts a single passage
  matches all count at its rank (the benchmark's code, not textbook average precision).

Queries without evidence (the benchmark's null queries) are left out of the averages by the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CUTOFF = 10
METRICS = ("hits@4", "hits@10", "mrr@10", "map@10")


def squash(text: str) -> str:
    """The benchmark's normalisation: spaces and newlines removed, nothing else."""
    return text.replace(" ", "").replace("\n", "")


@dataclass(frozen=True)
class QueryScore:
    hits4: float
    hits10: float
    rr: float
    ap: float
    first_rank: int | None  # rank of the first matching passage within the cutoff

    def as_dict(self) -> dict[str, float]:
        return {"hits@4": self.hits4, "hits@10": self.hits10, "mrr@10": self.rr, "map@10": self.ap}


def score_query(passages: Sequence[str], facts: Sequence[str]) -> QueryScore:
    """Score one ranked list of passage texts against a query's evidence facts (at least one)."""
    if not facts:
        raise ValueError("a query without evidence facts cannot be scored")
    gold = [squash(f) for f in facts]
    found: set[str] = set()
    first: int | None = None
    ap_sum = 0.0
    for rank, passage in enumerate(passages[:CUTOFF], start=1):
        text = squash(passage)
        matched = [g for g in gold if g in text]
        if not matched:
            continue
        if first is None:
            first = rank
        new = {g for g in matched if g not in found}  # a fact listed twice is still one fact found
        found |= new
        ap_sum += len(new) / rank
    return QueryScore(
        hits4=float(first is not None and first <= 4),
        hits10=float(first is not None),
        rr=1.0 / first if first else 0.0,
        ap=ap_sum / min(len(gold), CUTOFF),
        first_rank=first,
    )


def mean_scores(scores: Iterable[QueryScore]) -> dict[str, float]:
    """Averages of the four metrics, plus the number of queries ("n")."""
    rows = [s.as_dict() for s in scores]
    if not rows:
        return {"n": 0, **dict.fromkeys(METRICS, 0.0)}
    return {"n": len(rows), **{m: sum(r[m] for r in rows) / len(rows) for m in METRICS}}


def summarise(scored: Iterable[tuple[str, QueryScore]]) -> dict[str, dict[str, float]]:
    """{"overall": means, <question type>: means, ...} from (question type, score) pairs."""
    by_type: dict[str, list[QueryScore]] = defaultdict(list)
    everything: list[QueryScore] = []
    for kind, score in scored:
        by_type[kind].append(score)
        everything.append(score)
    return {"overall": mean_scores(everything)} | {k: mean_scores(v) for k, v in sorted(by_type.items())}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
