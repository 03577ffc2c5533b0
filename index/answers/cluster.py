"""Stories of a period: articles grouped by topic (their title and lead, embedded), biggest first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import Engine
from ..models import Article
from .candidates import Sentence, article_sentences
from .extract import REDUNDANT, embed_cached

log = logging.getLogger(__name__)

SAME_TOPIC = 0.55  # cosine of (title + lead) embeddings above which two articles share a topic
LEAD_CHOICES = 3  # opening sentences of an article from which its lead is chosen
LEAD_PREFERENCE = 0.05  # cosine given up per sentence further from the start


@dataclass(frozen=True)
class Story:
    headline: str
    articles: tuple[Article, ...]  # the most central first
    sentences: tuple[Sentence, ...]  # one or two sentences to show, from different articles if possible
    size: int  # articles, counting other outlets' copies of them
    outlets: tuple[str, ...] = ()  # every outlet that carried it, its articles' and their copies'

    @property
    def heading(self) -> str:
        """The headline and who carried the story: "Title (Engadget)", "Title (3 outlets: A, B, C)"."""
        if len(self.outlets) <= 1:
            return f"{self.headline} ({self.outlets[0]})" if self.outlets else self.headline
        return f"{self.headline} ({len(self.outlets)} outlets: {', '.join(self.outlets)})"


def group_stories(engine: Engine, articles: Sequence[Article]) -> list[Story]:
    """Greedy neighbourhood clustering: the article with most same-topic neighbours seeds a story and
    takes them; repeated on the rest. Biggest stories first, then newest."""
    opening = [article_sentences(a)[:LEAD_CHOICES] for a in articles]
    keep = [i for i, first in enumerate(opening) if first]
    if not keep:
        return []
    leads, vectors = _leads(engine, [articles[i] for i in keep], [opening[i] for i in keep])
    sims = vectors @ vectors.T
    stories = []
    for members in _clusters(sims):
        group = [articles[keep[i]] for i in members]
        sentences = _story_sentences([leads[i] for i in members], vectors[members])
        copies = {a.id: engine.outlets_of(a.id) for a in group}
        size = sum(1 + len(c) for c in copies.values())
        outlets = dict.fromkeys(o for a in group for o in (a.source, *copies[a.id]) if o)
        stories.append(Story(group[0].title, tuple(group), sentences, size, tuple(outlets)))
    stories.sort(key=lambda s: (-s.size, _newest(s)), reverse=False)
    return stories


def _leads(
    engine: Engine, articles: Sequence[Article], opening: Sequence[Sequence[Sentence]]
) -> tuple[list[Sentence], np.ndarray]:
    """Per article, the opening sentence closest to its title (skipping boilerplate such as "X Explains is
    a series ..."), and a vector of title and that sentence for grouping."""
    texts = []
    for article, first in zip(articles, opening, strict=True):
        texts += [article.title, *(s.text for s in first)]
    flat = embed_cached(engine.embedder, texts)
    leads, vectors, at = [], [], 0
    for first in opening:
        title, candidates = flat[at], flat[at + 1 : at + 1 + len(first)]
        at += 1 + len(first)
        best = int(np.argmax(candidates @ title - LEAD_PREFERENCE * np.arange(len(first))))
        leads.append(first[best])
        vector = title + candidates[best]
        vectors.append(vector / (np.linalg.norm(vector) or 1.0))
    return leads, np.stack(vectors)


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
