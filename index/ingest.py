"""The ingest pipeline: a parsed article becomes a stored, chunked, embedded article exactly once."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from .embedding.passages import Passager
from .models import Article, ArticleDraft
from .scopes import OPERATOR
from .storage import dedupe
from .storage.records import Conflict
from .storage.store import Store
from .text import canonical_url, content_hash, derive_title, same_site, site_of

log = logging.getLogger(__name__)

MIN_BODY_CHARS = 20
ATTEMPTS = 3  # decisions made again after another writer stored the same article meanwhile


@dataclass(frozen=True)
class Outcome:
    """What happened to one draft: added | updated | duplicate | skipped, with the passages it changed."""

    kind: str
    article_id: str | None = None
    story_id: str | None = None  # the story's main article (article_id itself unless a copy)
    added_chunks: tuple[int, ...] = ()
    removed_chunks: tuple[int, ...] = ()
    vectors: np.ndarray | None = None
    reason: str = ""


def article_id_for(url: str | None, text_hash: str) -> str:
    """Stable ids: from the canonical URL when there is one (so new versions keep it), else the text."""
    basis = url or f"text:{text_hash}"
    return hashlib.sha1(basis.encode()).hexdigest()[:16]


def foreign_update(draft: ArticleDraft, url: str, stored_origin: str) -> str | None:
    """Why `draft` may not replace the article stored at `url` from `stored_origin`, or None if it may.

    An article is updated only by its own source: text read from a file (the operator's word), an
    entry of the feed it came from, or a response from the article's own site (its registrable domain).
    Anything else, such as a feed entry linking to another outlet's stored article, is refused."""
    if draft.fetched_from is None:
        return None
    if draft.feed and re.fullmatch(re.escape(draft.feed) + r"[#:]\d+", stored_origin):  # "feed#3", "list:3"
        return None
    if same_site(url, draft.fetched_from):
        return None
    return (
        f"not stored: {url} is already stored from another source ({stored_origin}), and this text came "
        f"from {site_of(draft.fetched_from) or draft.fetched_from}, not from that article's site"
    )


def ingest_draft(
    draft: ArticleDraft, store: Store, passager: Passager, claim: tuple[str, str] = (OPERATOR, "manual")
) -> Outcome:
    """Store a draft as added, updated or duplicate, with `claim` (scope, via: who brought it) in the
    same transaction. The decision is made outside the write
    transaction (embedding takes a while) and checked inside it: if another process stored the same
    URL or text meanwhile, it is made again, so a racing copy becomes a duplicate."""
    body = draft.body.strip()
    if len(body) < MIN_BODY_CHARS:
        return Outcome("skipped", reason="no article text (empty or too short)")
    for _ in range(ATTEMPTS):
        try:
            outcome = _ingest_once(draft, body, store, passager, claim)
            if outcome.kind != "duplicate" or outcome.story_id is not None:
                return outcome
            # Already stored: this scope's claim is all there is to write (on it and its story).
            story = store.claim(outcome.article_id, *claim)
            if story is not None:
                return replace(outcome, story_id=story)
        except Conflict:
            log.info("%s was stored meanwhile by another writer; deciding again", draft.origin)
    return Outcome("skipped", reason="changed by other writers while being stored; try again")


def _ingest_once(
    draft: ArticleDraft, body: str, store: Store, passager: Passager, claim: tuple[str, str]
) -> Outcome:
    url = canonical_url(draft.url)
    text_hash = content_hash(body)
    observed = store.observe(url, text_hash)
    existing = observed[0]
    if existing:
        old_id, old_hash = existing
        if old_hash == text_hash:
            return Outcome("duplicate", article_id=old_id, reason="same URL and text already stored")
        refusal = foreign_update(draft, url or "", store.origin_of(old_id) or "")
        if refusal:
            return Outcome("skipped", article_id=old_id, reason=refusal)
    elif (same := observed[1]) is not None:
        return Outcome("duplicate", article_id=same, reason="same text already stored")

    sig = dedupe.signature(body)
    bands = dedupe.bands(sig)
    story = None if existing else dedupe.find_near_duplicate(sig, store.minhash_candidates(bands))
    article = Article(
        id=article_id_for(url, text_hash),
        title=(draft.title or "").strip() or derive_title(body),
        title_derived=not (draft.title or "").strip(),
        source=(draft.source or "").strip() or None,
        url=draft.url,
        published=draft.published,
        author=draft.author,
        body=body,
        ingested_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        duplicate_of=story,
    )
    if story is not None:
        # The same story from another outlet: recorded for its outlet, not indexed twice.
        store.add_article(
            article,
            canonical_url=url,
            content_hash=text_hash,
            origin=draft.origin,
            chunks=[],
            vectors={},
            minhash=None,
            observed=observed,
            claim=claim,
        )
        return Outcome("duplicate", article_id=article.id, story_id=story, reason=f"same story as {story}")

    chunks = passager.chunk(article.title, body)
    vectors = passager.embed_chunks(article.title, chunks)
    ids, replaced = store.add_article(
        article,
        canonical_url=url,
        content_hash=text_hash,
        origin=draft.origin,
        chunks=chunks,
        vectors=vectors,
        minhash=(sig.tobytes(), bands),
        replaces=existing[0] if existing else None,
        observed=observed,
        claim=claim,
    )
    matrix = np.stack([vectors[c.embed_key] for c in chunks]) if chunks else None
    return Outcome(
        "updated" if existing else "added",
        article_id=article.id,
        story_id=article.id,
        added_chunks=tuple(ids),
        removed_chunks=tuple(replaced),
        vectors=matrix,
    )
