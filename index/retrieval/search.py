"""Hybrid retrieval: dense (FAISS) and lexical (BM25: FTS5's scores, from the impact index of
`index.retrieval.lexical` where built) candidates, fused, boosted, rescored by sentence, capped per article.

1. The question is parsed (`index.retrieval.query`) for the outlets and days it names.
2. Candidates come from one BM25 search over passages (with their article's title, outlet and date; the
   named outlets and dates left out of the query) and one embedding search. For each named outlet the
   same lists, restricted to that outlet, are fused again on their own, so a question about what several
   outlets reported gets each outlet's best passages at full strength.
3. Each list's scores are normalised (top = 1) and summed with weights; passages of a named outlet or
   published within a day of a named day get a bonus.
4. The best `sentence_depth` candidates are rescored by their best sentence against a clause of the
   question (`index.retrieval.rerank`: words weighted by how rare they are among those candidates), so
   the passage
   of a story that states the fact asked about beats its neighbours that only share the story's words.
5. Passages are picked best first, at most `per_article` per article (optionally a passage already picked
   from the same article lowers that article's next ones).

The defaults are the best measured on the MultiHop-RAG dev questions (docs/retrieval.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..embedding.embedder import Embedder, embed_cached
from ..models import Hit
from ..storage.records import Filters
from ..storage.spans import decode_spans
from ..storage.store import Store
from .query import ParsedQuery, clean_question, parse_query
from .rerank import passage_words, question_clauses, sentence_scores
from .vectors import VectorIndex

Ranked = list[tuple[int, float]]
_DENSE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dense-search")
DEEP = 10  # with outlet searches, candidate lists are this many times deeper, then viewed per outlet


@dataclass(frozen=True)
class FusionWeights:
    """How candidate lists are combined. The defaults are the best measured configuration
    (docs/retrieval.md)."""

    lexical: float = 0.7
    dense: float = 0.3
    candidates: int = 100
    outlet_searches: int = 4  # named outlets that get their own restricted search (0: none)
    outlet_weight: float = 1.0  # weight of the per-outlet lists against the global one
    outlet_boost: float = 0.2  # bonus for a passage of an outlet the question names
    date_boost: float = 0.4  # bonus for a passage published on (or a day off) a day the question names
    same_article: float = 0.0  # penalty for each passage already picked from the same article
    strip_mentions: bool = True  # leave named outlets and dates out of the BM25 query (boosts cover them)
    sentence_weight: float = 0.5  # weight of the best-sentence score (index/retrieval/rerank.py); 0: off
    sentence_depth: int = 40  # how many of the best candidates are rescored by their sentences


def hybrid_search(
    query: str,
    *,
    store: Store,
    vectors: VectorIndex | None,
    embedder: Embedder | None,
    k: int = 10,
    filters: Filters | None = None,
    per_article: int = 4,
    weights: FusionWeights | None = None,
    parsed: ParsedQuery | None = None,
) -> list[Hit]:
    query = clean_question(query)
    filters = filters or Filters()
    weights = weights or FusionWeights()
    if parsed is None:
        needs_outlets = weights.outlet_searches or weights.outlet_boost
        outlets = [s["source"] for s in store.sources(filters.viewer)] if needs_outlets else []
        parsed = parse_query(query, outlets)
    # Deeper lists only when the question names outlets: each outlet's view is cut from them.
    depth = weights.candidates * (DEEP if weights.outlet_searches and parsed.outlets else 1)
    dense_search = None
    if vectors is not None and embedder is not None and vectors.count:
        # The model and FAISS run outside the GIL while BM25 ranks: on 2 cores the two overlap.
        allowed = store.allowed_chunk_ids(filters) if filters.active else None
        # A viewer's hidden passages (other servers' own news) are few: left out, not listed.
        hidden = store.hidden_chunks(filters.viewer) if allowed is None and filters.viewer else None
        dense_search = _DENSE.submit(_dense, query, embedder, vectors, depth, allowed, hidden)
    bare = _without_mentions(parsed)  # the question without the outlets and dates it names
    lexical = store.lexical(bare if weights.strip_mentions else query, depth, filters)
    rescored = bool(weights.sentence_weight and weights.sentence_depth)
    early: dict[int, tuple] = {}
    found: dict[int, list[set[str]]] = {}
    if rescored and dense_search is not None and not dense_search.done():
        # While the vector search runs, BM25's best (most of those rescored below) are fetched and read.
        early = store.passage_texts([cid for cid, _ in lexical[: weights.sentence_depth]])
        asked = set().union(*question_clauses(bare))
        found = {cid: passage_words(row[2], decode_spans(row[3]), asked) for cid, row in early.items()}
    dense: Ranked = dense_search.result() if dense_search is not None else []
    n = weights.candidates
    fused = dict(fuse(lexical[:n], dense[:n], weights))
    named = [o for o in parsed.outlets if not filters.sources or o.lower() in _lower(filters.sources)]
    pool = [cid for cid, _ in lexical] + [cid for cid, _ in dense] if named else []
    for outlet in named[: weights.outlet_searches]:
        # The named outlet's own best passages, from the same (deeper) lists: one search, many views.
        mine = store.among(pool, Filters(filters.since, filters.until, (outlet,), filters.viewer))
        scoped = fuse(_within(lexical, mine, n), _within(dense, mine, n), weights)
        for chunk_id, score in scoped:
            fused[chunk_id] = max(fused.get(chunk_id, 0.0), weights.outlet_weight * score)
    # Bonuses need each passage's outlet and date (from the impact index's arrays); the text of a
    # passage is read only for the few rescored by sentence or picked, and its article for the picked.
    boosted = (weights.outlet_boost and parsed.outlets) or (weights.date_boost and parsed.days)
    facts = store.passage_facts(list(fused)) if boosted else {}
    scores = {
        cid: s + (_bonus(facts[cid], parsed, weights) if cid in facts else 0.0) for cid, s in fused.items()
    }
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    rows: dict[int, tuple] = {}
    if rescored:
        head = [cid for cid, _ in ranked[: weights.sentence_depth]]
        rows = {cid: early[cid] for cid in head if cid in early}
        rows.update(store.passage_texts([cid for cid in head if cid not in early]))
        ranked = _by_sentences(ranked, rows, bare, weights, found)
        rows.update((cid, row) for cid, row in early.items() if cid not in rows)  # picking may want them
    fetched = _Rows(store, ranked, rows)
    picked = _pick(ranked, fetched.article, k, per_article, weights.same_article)
    # a passage of a removed article (or one the viewer may not see) drops out here
    full = store.passages([cid for cid, _ in picked], filters.viewer)
    return [_hit(store, full[cid], score, filters.viewer) for cid, score in picked if cid in full]


def _dense(query: str, embedder: Embedder, vectors: VectorIndex, depth: int, allowed, hidden) -> Ranked:
    return vectors.search(embed_cached(embedder, [query])[0], depth, allowed, hidden)


def _without_mentions(parsed: ParsedQuery) -> str:
    """The question with the outlets and dates it names blanked out."""
    spans = sorted(
        [(m.start, m.end) for m in parsed.outlet_mentions] + [(d.start, d.end) for d in parsed.dates]
    )
    text, last = [], 0
    for start, end in spans:
        if start >= last:
            text.append(parsed.text[last:start])
            last = end
    text.append(parsed.text[last:])
    return " ".join(text)


def _by_sentences(
    ranked: Ranked, rows: dict[int, tuple], question: str, weights: FusionWeights, found=None
) -> Ranked:
    """The best `sentence_depth` candidates rescored by their best sentence; the rest follow unchanged.
    `found` holds the question's words in the sentences of passages already read."""
    head, tail = ranked[: weights.sentence_depth], ranked[weights.sentence_depth :]
    # A passage can vanish between ranking and fetching (a full reindex re-chunks while questions run).
    head = [(cid, score) for cid, score in head if cid in rows]
    todo = [cid for cid, _ in head if not found or cid not in found]
    extra = sentence_scores(
        question,
        {cid: rows[cid][2] for cid, _ in head},
        {cid: decode_spans(rows[cid][3]) for cid in todo},
        found,
    )
    head = [(cid, score + weights.sentence_weight * extra[cid]) for cid, score in head]
    return sorted(head, key=lambda item: (-item[1], item[0])) + tail


def _within(ranked: Ranked, allowed: set[int], n: int) -> Ranked:
    return [item for item in ranked if item[0] in allowed][:n]


def fuse(lexical: Ranked, dense: Ranked, weights: FusionWeights) -> Ranked:
    """Weighted sum of per-list normalised scores (each list's top score = 1), best first."""
    scores: dict[int, float] = defaultdict(float)
    for results, weight in ((lexical, weights.lexical), (dense, weights.dense)):
        if not results:
            continue
        top = max(score for _, score in results) or 1.0
        for chunk_id, score in results:
            scores[chunk_id] += weight * max(score, 0.0) / top
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _bonus(facts: tuple, parsed: ParsedQuery, weights: FusionWeights) -> float:
    source, published = facts
    bonus = 0.0
    if weights.outlet_boost and source and source.lower() in _lower(parsed.outlets):
        bonus += weights.outlet_boost
    if weights.date_boost and published and parsed.days and _near_day(published, parsed.days):
        bonus += weights.date_boost
    return bonus


def _near_day(published: str, days: tuple[str, ...], slack: int = 1) -> bool:
    """Published within `slack` days of a named day (time zones move a story across midnight)."""
    try:
        when = date.fromisoformat(published[:10])
        return any(abs((when - date.fromisoformat(d)).days) <= slack for d in days)
    except ValueError:
        return False


def _lower(names: tuple[str, ...]) -> set[str]:
    return {n.lower() for n in names}


class _Rows:
    """The rows of ranked passages, fetched as picking reaches them: 20, then twice as many each time."""

    def __init__(self, store: Store, ranked: Ranked, rows: dict[int, tuple]):
        self.store, self.ranked, self.rows = store, ranked, rows
        self.asked = set(rows)
        self.ahead = 20

    def article(self, i: int) -> str | None:
        """The article of the i-th ranked passage; None if it was removed since it was ranked."""
        chunk_id = self.ranked[i][0]
        if chunk_id not in self.asked:
            ahead = [cid for cid, _ in self.ranked[i : i + self.ahead] if cid not in self.asked]
            self.ahead *= 2
            self.asked.update(ahead)
            self.rows.update(self.store.passage_texts(ahead))
        row = self.rows.get(chunk_id)
        return row[1] if row is not None else None


def _pick(
    ranked: Ranked, article_of: Callable[[int], str | None], k: int, per_article: int, same_article: float
) -> list[tuple[int, float]]:
    """Best first, at most `per_article` per article; with `same_article`, each passage already picked
    from an article lowers that article's next ones."""
    picked: list[tuple[int, float]] = []
    per: dict[str, int] = defaultdict(int)
    if not same_article:  # plain score order: one pass
        for i, (chunk_id, score) in enumerate(ranked):
            article = article_of(i)
            if article is not None and per[article] < per_article:
                per[article] += 1
                picked.append((chunk_id, score))
                if len(picked) == k:
                    break
        return picked
    articles = [article_of(i) for i in range(len(ranked))]
    pending = [i for i, article in enumerate(articles) if article is not None]
    while pending and len(picked) < k:
        best_at, best = -1, -np.inf
        for at, i in enumerate(pending):
            article = articles[i]
            if per[article] < per_article and ranked[i][1] - same_article * per[article] > best:
                best_at, best = at, ranked[i][1] - same_article * per[article]
        if best_at < 0:
            break
        i = pending.pop(best_at)
        per[articles[i]] += 1
        picked.append((ranked[i][0], best))
    return picked


def _hit(store: Store, row: tuple, score: float, viewer: str | None = None) -> Hit:
    chunk_id, article_id, start, end, text, title, source, url, published = row
    return Hit(
        chunk_id=chunk_id,
        article_id=article_id,
        title=title,
        source=source,
        url=url,
        published=published,
        excerpt=text,
        start=start,
        end=end,
        score=float(np.float32(score)),
        also_reported_by=tuple(store.outlets_of(article_id, viewer)),
    )
