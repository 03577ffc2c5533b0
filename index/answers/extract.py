"""Sentence scoring and selection: the few sentences that best answer a question, not repeating
each other, with the same fact from several outlets folded into one point."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..embedding.embedder import Embedder, embed_cached
from .candidates import Sentence
from .terms import TermStats, content_terms, entities, words

log = logging.getLogger(__name__)

MAX_POINTS = 4
PER_ARTICLE = 2  # at most this many points from one article
SAME_FACT = 0.86  # cosine above which two sentences of different articles state the same fact
REDUNDANT = 0.75  # cosine above which a sentence adds nothing to one already chosen
RELATIVE_FLOOR = 0.72  # a point must score at least this share of the best sentence's score
TOPIC_FLOOR = 0.6  # a topic summary ranges wider than an answer
# Weights of a sentence's score, tuned on MultiHop-RAG dev (docs/answers.md): similarity to the question,
# its rare words, the passage's search score, names the question lacks (the answer to "which company
# ...?" is a name), nearness to the article's lead (news puts key facts first) and, for a question asking
# for a name, how widely the names it gives are shared by the retrieved articles (bridge.py).
WEIGHTS = {"cosine": 0.6, "lexical": 0.3, "passage": 0.1, "names": 0.1, "lead": 0.1, "shared": 0.2}
# Which sentences are worth embedding at all: the question's rare words in the sentence or its title,
# and the passage's search score.
PREFILTER = {"lexical": 0.3, "passage": 0.1, "title": 0.1}
MAX_EMBEDDED = 64  # sentences embedded per question: the rest, weakest by the cheap scores, are cut
# With pooled sentence vectors (index/embedding/sentence_vectors.py), those candidates are ranked by
# them and only this many are embedded alone. Mapped towards the sentences' own vectors
# (index/embedding/sentence_map.py), fewer are needed than unmapped (docs/performance.md has the figures).
EMBED_BEST = 8
EMBED_BEST_UNMAPPED = 10


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    cosine: float
    lexical: float
    vector: np.ndarray = field(repr=False, compare=False)


@dataclass
class Draft:
    """A point being assembled: its main sentence and the same fact in other articles."""

    lead: Scored
    others: list[Scored] = field(default_factory=list)

    @property
    def sentences(self) -> list[Sentence]:
        return [self.lead.sentence, *(o.sentence for o in self.others)]


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=65_536)
def forms(term: str) -> frozenset[str]:
    """Every word whose stem is the term's: the stem itself, with "s", or "y" as "ies"."""
    root = stem(term)
    candidates = {root, root + "s", root[:-1] + "ies" if root.endswith("y") else root}
    return frozenset(w for w in candidates if stem(w) == root)


def has_term(present: set[str], term: str) -> bool:
    """Whether a word of `present` (a text's `words`) has the term's stem: the same test as
    `stem(term) in {stem(w) for w in words(text)}`, without stemming every word of the text."""
    return not forms(term).isdisjoint(present)


def lexical_overlap(query_weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the query's terms found in the text."""
    total = sum(query_weights.values())
    if not total:
        return 0.0
    present = set(words(text))
    return sum(w for t, w in query_weights.items() if has_term(present, t)) / total


def query_weights(query: str, stats: TermStats | None) -> dict[str, float]:
    terms = content_terms(query)
    return stats.weights(terms) if stats else dict.fromkeys(terms, 1.0)


def new_names(text: str, asked: set[str]) -> float:
    """1 when the sentence names someone or something the question does not."""
    return float(any(not set(words(name)) <= asked for name in entities(text)))


def lead(position: int) -> float:
    """News puts its key facts first: 1 for an article's first sentence, fading after."""
    return 1.0 / (1.0 + position / 5.0) if position >= 0 else 0.0


def score_sentences(
    query: str,
    sentences: Sequence[Sentence],
    embedder: Embedder,
    stats: TermStats | None = None,
    *,
    boosts: dict[str, float] | None = None,
    pooled: Mapping[tuple[str, int, int], np.ndarray] | None = None,
    names: Mapping[tuple[str, int, int], float] | None = None,
) -> list[Scored]:
    """Sentences scored against the query, best first (see WEIGHTS), `boosts` added per article.
    Only the MAX_EMBEDDED sentences most worth it (see PREFILTER) are kept; those with a `pooled`
    vector (by `Sentence.key`) are ranked with it and only the best few of them embedded (`embed_best`).
    `names` (by `Sentence.key`, see bridge.py) weighs how widely the names a sentence gives are shared."""
    if not sentences:
        return []
    weights = query_weights(query, stats)
    top_passage = max(s.passage_score for s in sentences) or 1.0
    boosts = boosts or {}
    names = names or {}
    lexical = [lexical_overlap(weights, s.text) for s in sentences]
    passage = [s.passage_score / top_passage for s in sentences]
    titles = {title: lexical_overlap(weights, title) for title in {s.title for s in sentences}}
    worth = [
        PREFILTER["lexical"] * lex
        + PREFILTER["passage"] * pas
        + PREFILTER["title"] * titles[s.title]
        + boosts.get(s.article_id, 0.0)
        + WEIGHTS["shared"] * names.get(s.key, 0.0)
        for s, lex, pas in zip(sentences, lexical, passage, strict=True)
    ]
    asked = set(words(query))
    rest: dict[int, float] = {}  # each sentence's score but its cosine (ranked, then scored again)

    def value(i: int, cosine: float) -> float:
        if i not in rest:
            s = sentences[i]
            rest[i] = (
                WEIGHTS["lexical"] * lexical[i]
                + WEIGHTS["passage"] * passage[i]
                + WEIGHTS["names"] * new_names(s.text, asked)
                + WEIGHTS["lead"] * lead(s.position)
                + boosts.get(s.article_id, 0.0)
                + WEIGHTS["shared"] * names.get(s.key, 0.0)
            )
        return WEIGHTS["cosine"] * cosine + rest[i]

    order = sorted(range(len(sentences)), key=lambda i: -worth[i])[:MAX_EMBEDDED]
    if pooled:
        ranked = [i for i in order if sentences[i].key in pooled]
        best = embed_best(embedder)
        if len(ranked) > best:
            question = embed_cached(embedder, [query])[0]
            ranked.sort(key=lambda i: -value(i, float(pooled[sentences[i].key] @ question)))
            order = [i for i in order if sentences[i].key not in pooled] + ranked[:best]
    vectors = embed_cached(embedder, [query, *(sentences[i].text for i in order)])
    scored = [
        Scored(sentences[i], value(i, float(vec @ vectors[0])), float(vec @ vectors[0]), lexical[i], vec)
        for i, vec in zip(order, vectors[1:], strict=True)
    ]
    return sorted(scored, key=lambda x: (-x.score, x.sentence.key))


def embed_best(embedder: Embedder) -> int:
    """How many candidates ranked by pooled vectors are embedded alone: fewer when the embedder maps
    pooled vectors towards sentences' own (`index.answers.candidates.pooled_vectors` applies it)."""
    return EMBED_BEST if getattr(embedder, "sentence_map", None) is not None else EMBED_BEST_UNMAPPED


def select(
    scored: Sequence[Scored],
    *,
    max_points: int = MAX_POINTS,
    per_article: int = PER_ARTICLE,
    floor: float = RELATIVE_FLOOR,
) -> list[Draft]:
    """Greedy selection, best first: a sentence joins the point stating the same fact (if from another
    article), is skipped if redundant, or starts a new point while it scores at least `floor` times the
    best score (at most `per_article` points from one article)."""
    if not scored:
        return []
    floor = scored[0].score * floor
    drafts: list[Draft] = []
    for cand in scored:
        if cand.score < floor:
            break
        match = _closest(cand, drafts)
        if match is not None:
            draft, sim = match
            if sim >= SAME_FACT or same_text(cand.sentence.text, draft.lead.sentence.text):
                _fold(draft, cand)
                continue
            if sim >= REDUNDANT and not disagree(cand.sentence, draft.lead.sentence):
                continue
        if len(drafts) < max_points and _room(cand, drafts, per_article):
            drafts.append(Draft(cand))
    return drafts


def _closest(cand: Scored, drafts: list[Draft]) -> tuple[Draft, float] | None:
    best: tuple[Draft, float] | None = None
    for draft in drafts:
        for member in (draft.lead, *draft.others):
            sim = float(cand.vector @ member.vector)
            if best is None or sim > best[1]:
                best = (draft, sim)
    return best


def _fold(draft: Draft, cand: Scored) -> None:
    """Add a restatement from another article as a further source of the point."""
    articles = {s.article_id for s in draft.sentences}
    if cand.sentence.article_id not in articles and len(draft.others) < 3:
        draft.others.append(cand)


def _room(cand: Scored, drafts: list[Draft], per_article: int) -> bool:
    same = sum(1 for d in drafts if d.lead.sentence.article_id == cand.sentence.article_id)
    return same < per_article


_NORM = re.compile(r"\W+")
_NUMBER = re.compile(r"\d[\d,.]*")


def same_text(a: str, b: str) -> bool:
    """Near-identical wording (a wire story reprinted with small edits)."""
    wa, wb = set(words(a)), set(words(b))
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= 0.8


def numbers(text: str) -> set[str]:
    return {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}


def disagree(a: Sentence, b: Sentence) -> bool:
    """Two similar sentences from different outlets that state different figures."""
    if a.article_id == b.article_id or (a.source and a.source == b.source):
        return False
    na, nb = numbers(a.text), numbers(b.text)
    return bool(na and nb and na != nb)


def in_reading_order(drafts: list[Draft], *, newest_first: bool = False) -> list[Draft]:
    """Points grouped by article (best article first, or newest first), best point first within an
    article: the sentence that answers leads, whatever its place in the article (`drafts` best first)."""
    rank: dict[str, tuple] = {}
    for i, d in enumerate(drafts):
        s = d.lead.sentence
        if s.article_id not in rank:
            rank[s.article_id] = (_date_key(s.published), i) if newest_first else (i,)
    return sorted(drafts, key=lambda d: rank[d.lead.sentence.article_id])


def _date_key(published: str | None) -> int:
    """Newest first: negated yyyymmdd, undated last."""
    if not published:
        return 0
    digits = published[:10].replace("-", "")
    return -int(digits) if digits.isdigit() else 0
