"""Measure answers on a MultiHop-RAG style query file (see docs/answers.md).

    python -m index.answers.evaluate QUERIES.jsonl --data-dir DIR [--out FEATURES.jsonl]

For each query: the extractive answer (computed without abstaining) and the abstention evidence. Reports the
share of `inference_query` items whose expected answer appears in the cited excerpts, the share of
`null_query` items abstained on and of the other items answered, and a grid of thresholds for calibration.
Per question type (`by_type`, and for the two fixed halves of even and odd query numbers, `halves`): the
share answered, the expected answer in the cited excerpts and in the first one, and the benchmark's evidence
articles (the reports a comparison is about) among the cited ones; `cross_calibration` fits the threshold
grid on one half and scores it on the other.

    python -m index.answers.evaluate QUERIES.jsonl --data-dir DIR --summaries CORPUS.jsonl [--limit N]

Article summaries against Lead-3 and Lead-k (the article's first k sentences, k = our summary's number of
points): the share of each article's benchmark evidence facts quoted, and ROUGE-1 recall of those facts
(no reference summaries are available offline).
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..config import Settings
from ..engine import Engine
from ..models import Answer
from ..text import sentence_spans
from . import abstain, extract
from .ask import Findings, investigate, respond
from .plan import make_plan
from .summarize import summarize_article
from .terms import TermStats, words

log = logging.getLogger(__name__)


def candidates(found: Findings, query: str, stats: TermStats) -> list[dict]:
    """The scored sentences with the parts of their score, for tuning the weights offline."""
    weights = extract.query_weights(query, stats)
    top = max((s.sentence.passage_score for s in found.scored), default=0.0) or 1.0
    return [
        {
            "text": s.sentence.text,
            "article_id": s.sentence.article_id,
            "source": s.sentence.source,
            "position": s.sentence.position,
            "cosine": round(s.cosine, 4),
            "lexical": round(s.lexical, 4),
            "passage": round(s.sentence.passage_score / top, 4),
            "title": round(extract.lexical_overlap(weights, s.sentence.title), 4),
            "score": round(s.score, 4),
        }
        for s in found.scored
    ]


def run(engine: Engine, queries: list[dict], now: str, *, dump: bool = False) -> Iterator[dict]:
    stats = TermStats(engine)
    titles = _titles(engine)
    for item in queries:
        started = time.perf_counter()
        plan = make_plan(engine, item["query"], now=now)
        found = investigate(engine, plan)
        answer = respond(engine, plan, found)
        excerpts = [c.excerpt for c in answer.citations] if answer else []
        first = _first_excerpt(answer)
        expected = str(item.get("answer", ""))
        sides = {titles.get(_title_key(ev["title"])) for ev in item.get("evidence") or []} - {None}
        cited = {c.article_id for c in answer.citations} if answer else set()
        yield {
            "id": item["id"],
            "type": item.get("question_type"),
            "expected": expected,
            "found": _holds(expected, excerpts),
            "found_first": _holds(expected, [first]),
            "in_passages": _holds(expected, [h.excerpt for h in found.hits]),
            "in_candidates": _holds(expected, [s.sentence.text for s in found.scored]),
            "sides": len(sides),
            "sides_cited": len(sides & cited),
            "sides_in_passages": len(sides & {h.article_id for h in found.hits}),
            "points": len(answer.points) if answer else 0,
            "declined": bool(plan.beyond),
            "excerpts": excerpts,
            "evidence": found.evidence.to_json(),
            "seconds": round(time.perf_counter() - started, 3),
            **({"candidates": candidates(found, plan.query, stats)} if dump else {}),
        }


def _holds(expected: str, texts: list[str]) -> bool:
    """The expected answer inside the texts, case-insensitive (the benchmark's own test)."""
    return bool(expected) and expected.casefold() in " ".join(texts).casefold()


def _first_excerpt(answer: Answer | None) -> str:
    """What a member reads first: the excerpt of the first point's first citation."""
    if not answer or not answer.points:
        return ""
    by_n = {c.n: c.excerpt for c in answer.citations}
    return by_n.get(answer.points[0].citations[0], "")


def _title_key(title: str) -> str:
    return " ".join(html.unescape(title).split()).casefold()


def _titles(engine: Engine) -> dict[str, str]:
    """Stored article ids by title: the benchmark's evidence names its articles by title."""
    return {_title_key(a.title): a.id for a in engine.articles()}


def _abstains(r: dict, entity_weight: float, term_weight: float, threshold: float) -> bool:
    if r["points"] == 0 or r.get("declined"):
        return True
    ev = abstain.Evidence(**r["evidence"])
    weights = {"entity_weight": entity_weight, "term_weight": term_weight}
    return abstain.should_abstain(ev, threshold=threshold, **weights)


def _share(part: list, whole: list) -> float | None:
    return round(len(part) / len(whole), 4) if whole else None


def rates(rows: list[dict], entity_weight: float, term_weight: float, threshold: float) -> dict:
    def abstains(r: dict) -> bool:
        return _abstains(r, entity_weight, term_weight, threshold)

    null = [r for r in rows if r["type"] == "null_query"]
    other = [r for r in rows if r["type"] != "null_query"]
    inference = [r for r in rows if r["type"] == "inference_query"]
    share = _share
    return {
        "entity_weight": entity_weight,
        "term_weight": term_weight,
        "threshold": threshold,
        "null_abstained": share([r for r in null if abstains(r)], null),
        "others_answered": share([r for r in other if not abstains(r)], other),
        "inference_answer_cited": share([r for r in inference if r["found"] and not abstains(r)], inference),
        "inference_answer_cited_if_answering": share([r for r in inference if r["found"]], inference),
        "inference_answer_in_passages": share([r for r in inference if r["in_passages"]], inference),
    }


def by_type(rows: list[dict]) -> dict:
    """Per question type, with the current abstention: answered (abstained for null queries), the expected
    answer in the cited excerpts and in the first one, and the evidence articles ("sides") cited."""
    current = (abstain.ENTITY_WEIGHT, abstain.TERM_WEIGHT, abstain.MIN_ANSWERABILITY)
    report = {}
    for kind in sorted({r["type"] for r in rows}):
        part = [r for r in rows if r["type"] == kind]
        answered = [r for r in part if not _abstains(r, *current)]
        entry = {"queries": len(part)}
        if kind == "null_query":
            entry["abstained"] = round(1 - len(answered) / len(part), 4)
        else:
            entry["answered"] = _share(answered, part)
            entry["answer_cited"] = _share([r for r in answered if r["found"]], part)
            entry["answer_first"] = _share([r for r in answered if r.get("found_first")], part)
            sided = [r for r in answered if r.get("sides")]
            entry["all_sides_cited"] = _share([r for r in sided if r["sides_cited"] >= r["sides"]], part)
            entry["sides_cited"] = (
                round(sum(r["sides_cited"] / r["sides"] for r in sided) / len(part), 4) if sided else None
            )
        report[kind] = entry
    return report


def halves(rows: list[dict]) -> dict[str, list[dict]]:
    """Two fixed halves of the queries (by the parity of the number in their id), for held-out checks."""
    split: dict[str, list[dict]] = {"even": [], "odd": []}
    for r in rows:
        digits = "".join(c for c in str(r["id"]) if c.isdigit())
        split["odd" if digits and int(digits) % 2 else "even"].append(r)
    return split


def calibrate(rows: list[dict]) -> list[dict]:
    """Weights and thresholds by balanced accuracy (null abstained + others answered) / 2, best first."""
    shares = (0.0, 0.1, 0.2, 0.3, 0.4)
    grid = [rates(rows, e, t, h / 100) for e in shares for t in shares for h in range(40, 120, 2)]
    return sorted(grid, key=lambda g: -((g["null_abstained"] or 0) + (g["others_answered"] or 0)))


def cross_calibrate(rows: list[dict]) -> dict:
    """The grid's best point on each half, scored on the other half (held out)."""
    split = halves(rows)
    report = {}
    for fit, held in (("even", "odd"), ("odd", "even")):
        best = calibrate(split[fit])[0]
        point = (best["entity_weight"], best["term_weight"], best["threshold"])
        report[f"fit_{fit}"] = {"point": point, "held_out": rates(split[held], *point)}
    return report


def _tokens(text: str) -> list[str]:
    return words(text)


def rouge1_recall(reference: str, candidate: str) -> float:
    ref, cand = Counter(_tokens(reference)), Counter(_tokens(candidate))
    total = sum(ref.values())
    return sum(min(n, cand[w]) for w, n in ref.items()) / total if total else 0.0


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def summary_rows(engine: Engine, queries: list[dict], corpus: Path, limit: int | None) -> Iterator[dict]:
    """Per article with benchmark evidence: how much of its evidence facts (the sentences the benchmark's
    authors found worth asking about) our summary and Lead-3 contain. No reference summaries exist here."""
    urls = {}
    for line in corpus.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            urls[record["id"]] = record.get("url")
    facts: dict[str, list[str]] = {}
    for item in queries:
        for ev in item.get("evidence") or []:
            facts.setdefault(ev["article_id"], []).append(ev["fact"])
    by_url = {a.url: a for a in engine.articles()}
    done = 0
    for corpus_id, found in sorted(facts.items()):
        article = by_url.get(urls.get(corpus_id))
        summary = summarize_article(engine, article.id) if article else None
        if summary is None or not summary.points:
            continue
        ours = " ".join(c.excerpt for c in summary.citations)
        spans = sentence_spans(article.body)
        lead = " ".join(article.body[a:b] for a, b in spans[:3])
        lead_k = " ".join(article.body[a:b] for a, b in spans[: len(summary.points)])
        unique = list(dict.fromkeys(found))
        reference = " ".join(unique)
        yield {
            "id": corpus_id,
            "facts": len(unique),
            "ours_chars": len(ours),
            "lead3_chars": len(lead),
            "ours_facts": sum(_squash(f) in _squash(ours) for f in unique) / len(unique),
            "lead3_facts": sum(_squash(f) in _squash(lead) for f in unique) / len(unique),
            "leadk_facts": sum(_squash(f) in _squash(lead_k) for f in unique) / len(unique),
            "ours_rouge1": rouge1_recall(reference, ours),
            "lead3_rouge1": rouge1_recall(reference, lead),
            "leadk_rouge1": rouge1_recall(reference, lead_k),
            "leadk_chars": len(lead_k),
        }
        done += 1
        if limit and done >= limit:
            return


def summary_report(rows: list[dict]) -> dict:
    def mean(key: str) -> float:
        return round(sum(r[key] for r in rows) / len(rows), 4) if rows else 0.0

    keys = ("ours_facts", "lead3_facts", "leadk_facts", "ours_rouge1", "lead3_rouge1", "leadk_rouge1")
    keys += ("ours_chars", "lead3_chars", "leadk_chars")
    return {"articles": len(rows), **{k: mean(k) for k in keys}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--now", help="the clock for relative dates [default: newest article's date]")
    parser.add_argument("--out", type=Path, help="write one JSON line of features per query here")
    parser.add_argument("--rows", type=Path, help="score an earlier --out file instead of running")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--dump", action="store_true", help="add the scored sentences to --out rows")
    parser.add_argument(
        "--summaries", type=Path, metavar="CORPUS", help="score article summaries against Lead-3 instead"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.summaries:
        queries = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
        with Engine(Settings(data_dir=args.data_dir, _env_file=None)) as engine:
            rows = list(summary_rows(engine, queries, args.summaries, args.limit))
        print(json.dumps(summary_report(rows), indent=2))
        return
    if args.rows:
        rows = [json.loads(line) for line in args.rows.read_text().splitlines() if line.strip()]
    else:
        rows = _run(args)
    current = rates(rows, abstain.ENTITY_WEIGHT, abstain.TERM_WEIGHT, abstain.MIN_ANSWERABILITY)
    report = {"queries": len(rows), "current": current}
    report["by_type"] = by_type(rows)
    report["halves"] = {name: by_type(part) for name, part in halves(rows).items()}
    report["best_thresholds"] = calibrate(rows)[:5]
    report["cross_calibration"] = cross_calibrate(rows)
    print(json.dumps(report, indent=2))


def _run(args: argparse.Namespace) -> list[dict]:
    queries = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
    queries = queries[: args.limit] if args.limit else queries
    rows = []
    with Engine(Settings(data_dir=args.data_dir, _env_file=None)) as engine:
        now = args.now or max(a["newest"] or "" for a in engine.sources())
        out = args.out.open("w") if args.out else None
        for n, row in enumerate(run(engine, queries, now, dump=args.dump), start=1):
            rows.append(row)
            if out:
                out.write(json.dumps(row) + "\n")
                out.flush()
            if n % 25 == 0:
                print(f"{n}/{len(queries)}", file=sys.stderr)
        if out:
            out.close()
    return rows


if __name__ == "__main__":
    main()
