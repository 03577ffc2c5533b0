"""Stories of a period: articles grouped by topic (their title and lead, embedded), biggest first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import Engine
from ..models import Article
from .candidates import Sentence, article_sentences
from .extract import REDUNDANT

log = logging.getLogger(__name__)

SAME_TOPIC = 0.55  # cosine of (title + lead) embeddings above which two articles share a topic


@dataclass(frozen=True)
class Story:
    headline: str
    articles: tuple[Article, ...]  # the most central first
    sentences: tuple[Sentence, ...]  # one or two sentences to show, from different articles if possible
    size: int  # articles, counting other outlets' copies of them


def group_stories(engine: Engine, articles: Sequence[Article]) -> list[Story]:
    """Greedy neighbourhood clustering: the article with most same-topic neighbours seeds a story and
    takes them; repeated on the rest. Biggest stories first, then newest."""
    leads = [article_sentences(a)[:1] for a in articles]
    keep = [i for i, lead in enumerate(leads) if lead]
    if not keep:
        return []
    texts = [f"{articles[i].title}\n{leads[i][0].text}" for i in keep]
    vectors = engine.embedder.embed(texts)
    sims = vectors @ vectors.T
    stories = []
    for members in _clusters(sims):
        group = [articles[keep[i]] for i in members]
        sentences = _story_sentences([leads[keep[i]][0] for i in members], vectors[members])
        size = sum(1 + len(engine.store.outlets_of(a.id)) for a in group)
        stories.append(Story(group[0].title, tuple(group), sentences, size))
    stories.sort(key=lambda s: (-s.size, _newest(s)), reverse=False)
    return stories


def _newest(story: Story) -> str:
    """Sort key putting the newest first among equal sizes."""
    newest = max((a.published or "" for a in story.articles), default="")
    return "".join(chr(0x10FFFF - ord(c)) for c in newest)


def _clusters(sims: np.ndarray) -> list[list[int]]:
    """Member indices per cluster, the seed (most connected) first, then by closeness to it."""
    free = np.ones(len(sims), dtype=bool)
    linked = sims >= SAME_TOPIC
    clusters = []
    while free.any():
        degree = (linked & free[None, :] & free[:, None]).sum(axis=1)
        degree[~free] = -1
        seed = int(np.argmax(degree))
        members = [
            seed,
            *(int(j) for j in np.argsort(-sims[seed]) if free[j] and linked[seed, j] and j != seed),
        ]
        free[members] = False
        clusters.append(members)
    return clusters


def _story_sentences(leads: Sequence[Sentence], vectors: np.ndarray) -> tuple[Sentence, ...]:
    """The seed's lead, and the lead of another outlet's article when it adds something."""
    chosen = [0]
    for i in range(1, len(leads)):
        other_outlet = leads[i].source != leads[0].source
        if other_outlet and float(vectors[i] @ vectors[0]) < REDUNDANT:
            chosen.append(i)
            break
    return tuple(leads[i] for i in chosen)
