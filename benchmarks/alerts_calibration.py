"""Calibrate topic alerts' matching rule on labelled topics, and measure it on a held-out half.

    python benchmarks/alerts_calibration.py --data-dir DEV_FOLDER \\
        --corpus ../shared/eval/multihop-dev/corpus.jsonl --queries ../shared/eval/multihop-dev/queries.jsonl

DEV_FOLDER is a data folder holding the corpus as `newsbot ingest corpus.jsonl` stored it (the
benchmark reads it, never writes). The labelled set is derived from the dev questions:
- **topics**: the answers of the inference questions that are names (a proper noun in the corpus:
  written capitalised in at least 70% of its occurrences), and the names a question mentions (runs of
  capitalised words past its first word) that its evidence articles write as such; outlet names are
  left out (they name who reported, not what about). Topics with the same words are one topic.
- **positives** of a topic: the evidence articles (of the questions it came from) that name it;
  **negatives**: every other story of the corpus, except those whose title names the topic (likely about
  it though not evidence: left out, neither right nor wrong). Stories that mention the topic without
  being evidence count as negatives: the precision measured is, if anything, pessimistic.
Topics are split in two halves by a hash of their words: the weights and threshold of
`index.live.alert_match.Rule` are chosen on one half (the highest recall with precision >= the target),
then precision and recall are measured on the other (and the other way round, as a check), beside
the cosine alone and the words alone calibrated the same way.

--table FILE caches the evidence table (the model's part, minutes on 2 cores) for a second run.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clean clone

from index.config import Settings
from index.engine import Engine
from index.live.alert_match import RULE, ArticleText, Evidence, Rule, topic_terms
from index.words import CALENDAR_WORDS, FUNCTION_WORDS

_CAPITALISED = re.compile(r"^[A-Z0-9][\w'’&.-]*$")
_WORDS = re.compile(r"\w+")
MIN_ALERTS = 20  # a calibrated threshold must reach the target precision over at least this many alerts
_EDGE = re.compile(r"^[^\w]+|(?:'s|’s)?[^\w]*$")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def names_in(question: str) -> list[str]:
    """Runs of 1-4 capitalised words past the question's first word ("Which", "Did"...)."""
    runs, run = [], []
    for i, raw in enumerate(question.split()):
        word = _EDGE.sub("", raw)
        if i > 0 and word and _CAPITALISED.match(word) and word.lower() not in FUNCTION_WORDS:
            run.append(word)
            if raw.endswith((",", "?", ";", ":", "'s", "’s")):
                runs.append(run)
                run = []
            continue
        if run:
            runs.append(run)
        run = []
    if run:
        runs.append(run)
    return [" ".join(r) for r in runs if 1 <= len(r) <= 4]


def _count(text: str, phrase: str, *, case: bool) -> int:
    flags = 0 if case else re.IGNORECASE
    return len(re.findall(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, flags))


def ngram_counts(text: str, longest: int = 4) -> tuple[Counter, Counter]:
    """Counts of every run of 1..`longest` words, as written and lowercased."""
    words = _WORDS.findall(text)
    lower = [w.lower() for w in words]
    cased, anycase = Counter(), Counter()
    for n in range(1, longest + 1):
        cased.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        anycase.update(" ".join(lower[i : i + n]) for i in range(len(lower) - n + 1))
    return cased, anycase


def labelled_topics(corpus: list[dict], queries: list[dict], story_of: dict[str, str]) -> dict[str, dict]:
    """topic -> {"topic", "positives": set of story ids, "unlabelled": set of story ids}."""
    texts = {r["id"]: f"{r['title']}\n{r['body']}" for r in corpus}
    grams = ngram_counts("\n".join(texts.values()))
    outlets = {r["source"].casefold() for r in corpus if r.get("source")}
    found: dict[str, dict] = {}

    def proper(name: str) -> bool:  # written capitalised in at least 70% of its occurrences
        words = _WORDS.findall(name)
        cased, anycase = grams[0].get(" ".join(words), 0), grams[1].get(" ".join(words).lower(), 0)
        return bool(anycase) and cased >= 0.7 * anycase

    def consider(name: str, evidence_ids: list[str]) -> None:
        name = re.sub(r"^(The|A|An)\s+", "", name.strip().rstrip("."))
        key = " ".join(topic_terms(name))
        words = _WORDS.findall(name)
        if len(name) < 3 or not key or not name[0].isupper() or re.search(r"-[a-z]", name):
            return  # a number, a score, "Prime-themed"
        if any(w.lower() in CALENDAR_WORDS or any(c.isdigit() for c in w) for w in words):
            return  # dates, weeks and figures are not topics
        if any(name.casefold() in o or o in name.casefold() for o in outlets):
            return
        if not proper(name):
            return
        named = [a for a in evidence_ids if a in texts and _count(texts[a], name, case=True)]
        if not named:
            return
        entry = found.setdefault(key, {"topic": name, "positives": set(), "unlabelled": set()})
        entry["positives"].update(story_of[a] for a in named if a in story_of)

    for q in queries:
        evidence = [e["article_id"] for e in q.get("evidence") or []]
        if not evidence:
            continue
        if q["question_type"] == "inference_query" and len(q["answer"].split()) <= 4:
            consider(q["answer"], evidence)
        for name in names_in(q["query"]):
            consider(name, evidence)
    for entry in found.values():  # an article whose title names the topic is likely about it: not counted
        for r in corpus:
            if r["id"] in story_of and _count(r["title"], entry["topic"], case=False):
                entry["unlabelled"].add(story_of[r["id"]])
        entry["unlabelled"] -= entry["positives"]
    return {k: v for k, v in found.items() if v["positives"]}


def half_of(key: str) -> int:
    return hashlib.sha1(key.encode()).digest()[0] % 2


def evidence_table(
    engine: Engine, topics: dict[str, dict]
) -> tuple[list[str], list[str], list[list[Evidence]]]:
    """Every (topic, story) pair's evidence, as the live rule reads it."""
    stories = engine.articles()
    names = list(topics)
    vectors = engine.embedder.embed([topics[k]["topic"] for k in names])
    table = []
    for story in stories:
        text = ArticleText(engine, story)
        table.append(
            [text.evidence(topic_terms(topics[k]["topic"]), v) for k, v in zip(names, vectors, strict=True)]
        )
    return names, [s.id for s in stories], table


def counts(rows: list[tuple[Evidence, bool]], rule: Rule) -> tuple[int, int, int]:
    tp = sum(1 for ev, pos in rows if pos and ev.matches(rule))
    fp = sum(1 for ev, pos in rows if not pos and ev.matches(rule))
    fn = sum(1 for ev, pos in rows if pos and not ev.matches(rule))
    return tp, fp, fn


def rates(rows: list[tuple[Evidence, bool]], rule: Rule) -> dict:
    tp, fp, fn = counts(rows, rule)
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "tp": tp, "fp": fp, "fn": fn,
    }  # fmt: skip


def calibrate(rows: list[tuple[Evidence, bool]], target: float) -> Rule | None:
    """The rule of highest recall whose precision on `rows` is at least `target` over at least
    MIN_ALERTS alerts (a threshold that reaches the target on a handful is luck), over a small grid
    of weights and every score as a threshold; None if none does."""
    best: tuple[tuple, Rule] | None = None
    for least, title in itertools.product((0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.2, 0.3, 0.4)):
        probe = Rule(least, title, 1.0, 0.0)
        scored = sorted(
            ((ev.score(probe), pos) for ev, pos in rows if ev.coverage >= 1.0), key=lambda x: -x[0]
        )
        tp = fp = 0
        for score, pos in scored:
            tp, fp = tp + pos, fp + (not pos)
            if tp + fp >= MIN_ALERTS and tp / (tp + fp) >= target:
                key = (tp, -score)
                if best is None or key > best[0]:
                    best = (key, Rule(least, title, 1.0, round(score - 1e-4, 4)))
    return best[1] if best else None  # None: no rule reaches the target


def _semantic_only(ev: Evidence) -> Evidence:
    """The passage cosine alone (no word need be present)."""
    return Evidence(coverage=1.0, least=0, in_title=0.0, similarity=ev.similarity)


def _lexical_only(ev: Evidence) -> Evidence:
    """The words alone (every one present, mentions and title), no cosine."""
    return Evidence(coverage=ev.coverage, least=ev.least, in_title=ev.in_title, similarity=0.0)


def load_table(args: argparse.Namespace) -> tuple[list[str], list[str], list[list[Evidence]], dict]:
    """The labelled topics and the evidence table (computed and cached in --table, or read from it)."""
    corpus, queries = read_jsonl(args.corpus), read_jsonl(args.queries)
    with Engine(Settings(data_dir=args.data_dir, _env_file=None)) as engine:
        topics = labelled_topics(corpus, queries, stories_by_record(engine, corpus))
        if args.table and args.table.exists():
            saved = json.loads(args.table.read_text())
            if saved["names"] == list(topics):
                table = [[Evidence(*cell) for cell in row] for row in saved["table"]]
                return saved["names"], saved["stories"], table, topics
        names, story_ids, table = evidence_table(engine, topics)
    if args.table:
        cells = [[[e.coverage, e.least, e.in_title, round(e.similarity, 5)] for e in row] for row in table]
        args.table.write_text(json.dumps({"names": names, "stories": story_ids, "table": cells}))
    return names, story_ids, table, topics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--precision", type=float, default=0.9, help="target precision (default 0.9)")
    parser.add_argument(
        "--table", type=Path, help="cache of the evidence table (written, or read if present)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    names, story_ids, table, topics = load_table(args)
    halves: dict[int, list[tuple[Evidence, bool]]] = defaultdict(list)
    for j, key in enumerate(names):
        positives, unlabelled = topics[key]["positives"], topics[key]["unlabelled"]
        for i, story in enumerate(story_ids):
            if story not in unlabelled:
                halves[half_of(key)].append((table[i][j], story in positives))
    report = {
        "topics": len(names),
        "topics_per_half": [sum(1 for k in names if half_of(k) == h) for h in (0, 1)],
        "stories": len(story_ids),
        "positives_per_half": [sum(1 for _, p in halves[h] if p) for h in (0, 1)],
        "pairs_per_half": [len(halves[h]) for h in (0, 1)],
        "unlabelled_pairs": sum(len(t["unlabelled"]) for t in topics.values()),
        "shipped_rule": RULE.__dict__,
        "shipped_rule_on_calibration_half_0": rates(halves[0], RULE),
        "shipped_rule_on_held_out_half_1": rates(halves[1], RULE),
        "examples": [topics[k]["topic"] for k in names[:40]],
    }
    for fit, held in ((0, 1), (1, 0)):
        rule = calibrate(halves[fit], args.precision)
        assert rule is not None, "no rule reaches the target precision"
        report[f"fit_on_half_{fit}"] = {
            "rule": rule.__dict__, "fit": rates(halves[fit], rule), "held_out": rates(halves[held], rule)
        }  # fmt: skip
    report["ceiling"] = {  # positives that say every word of their topic: what the lexical gate lets through
        h: round(
            sum(1 for ev, pos in halves[h] if pos and ev.coverage >= 1.0)
            / max(1, sum(p for _, p in halves[h])),
            3,
        )
        for h in (0, 1)
    }
    for name, strip in (("semantic_only", _semantic_only), ("lexical_only", _lexical_only)):
        fitted = calibrate([(strip(ev), pos) for ev, pos in halves[0]], args.precision)
        report[f"baseline_{name}"] = (
            {"rule": fitted.__dict__, "held_out": rates([(strip(ev), pos) for ev, pos in halves[1]], fitted)}
            if fitted
            else "no threshold reaches the target precision on the calibration half"
        )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def stories_by_record(engine: Engine, corpus: list[dict]) -> dict[str, str]:
    """The corpus record id -> the stored story it joined (by URL, else by title)."""
    by_url, by_title = {}, {}
    for story in engine.articles():
        for article in [story, *engine.copies_of(story.id)]:
            by_url[article.url] = story.id
            by_title[" ".join(article.title.split()).casefold()] = story.id
    found = {}
    for r in corpus:
        story = by_url.get(r.get("url")) or by_title.get(" ".join(r["title"].split()).casefold())
        if story:
            found[r["id"]] = story
    return found


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
