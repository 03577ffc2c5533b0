"""Score article summaries against reference summaries with ROUGE (see docs/answers.md).

    python -m index.answers.evaluate_summaries ARTICLES.jsonl [--points N] [--limit N] [--out ROWS.jsonl]

ARTICLES.jsonl holds one `{"id", "article", "reference"}` object a line (the layout of
/work/shared/eval/summaries-dev/). Each article is summarized in memory, exactly as `newsbot summary
--article` would summarize it once stored (nothing is written to a store), and scored beside Lead-3 (its
first three sentences, split after `.`, `!` or `?` followed by whitespace). The metric is the benchmark's:
`rouge-score`'s ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 with stemming, `score(reference, candidate)`, the
candidate's sentences joined by newlines, averaged over articles, times 100. `rouge-score` is an
evaluation-only dependency (the `dev` extra).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..config import Settings
from ..embedding.embedder import Embedder, load_embedder
from ..models import Article
from . import cite
from .summarize import ARTICLE_POINTS, check_points, key_sentences

log = logging.getLogger(__name__)

MEASURES = ("rouge1", "rouge2", "rougeLsum")
_LEAD_SPLIT = re.compile(r"(?<=[.!?])\s+")


def lead3(text: str) -> list[str]:
    """The benchmark's Lead-3 baseline."""
    return _LEAD_SPLIT.split(text.strip())[:3]


def scorer():
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise SystemExit("scoring needs rouge-score: pip install 'newsbot[dev]'") from exc
    return rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)


def read_articles(path: Path) -> list[dict]:
    records = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        missing = {"id", "article", "reference"} - record.keys()
        if missing:
            raise SystemExit(f"{path}:{n}: missing {', '.join(sorted(missing))}")
        records.append(record)
    return records


def summary_points(embedder: Embedder, record: dict, max_points: int) -> list[str]:
    """Our article summary's points for an article held in memory only."""
    article = Article(
        id=str(record["id"]),
        title="",
        title_derived=True,
        source=None,
        url=None,
        published=None,
        author=None,
        body=record["article"],
        ingested_at="",
    )
    return [cite.display(s.text) for s in key_sentences(embedder, article, max_points=max_points)]


def rows(embedder: Embedder, records: Sequence[dict], max_points: int) -> Iterator[dict]:
    rouge = scorer()
    for record in records:
        systems = {"ours": summary_points(embedder, record, max_points), "lead3": lead3(record["article"])}
        row: dict = {"id": record["id"]}
        for name, points in systems.items():
            scores = rouge.score(record["reference"], "\n".join(points))
            row[name] = {m: round(scores[m].fmeasure * 100, 2) for m in MEASURES}
            row[name]["words"] = sum(len(p.split()) for p in points)
        yield row


def report(scored: Sequence[dict]) -> dict:
    def mean(system: str, key: str) -> float:
        return round(sum(r[system][key] for r in scored) / len(scored), 1) if scored else 0.0

    keys = (*MEASURES, "words")
    return {"articles": len(scored), **{s: {k: mean(s, k) for k in keys} for s in ("ours", "lead3")}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("--points", type=int, default=ARTICLE_POINTS, help="points per summary")
    parser.add_argument("--limit", type=int, help="score only the first N articles")
    parser.add_argument("--data-dir", type=Path, help="where the embedding model is prepared [settings]")
    parser.add_argument("--out", type=Path, help="write one JSON line of scores per article here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        check_points(args.points)
    except ValueError as exc:
        parser.error(str(exc))
    records = read_articles(args.articles)[: args.limit]
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}), _env_file=None)
    embedder = load_embedder(
        settings.model,
        device=settings.device,
        batch_size=settings.embed_batch_size,
        backend=settings.embed_backend,
        cache_dir=settings.embed_cache_dir,  # None: the user cache, shared by every data folder
    )
    scored = list(rows(embedder, records, args.points))
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in scored))
    print(json.dumps(report(scored), indent=2))


if __name__ == "__main__":
    main()
