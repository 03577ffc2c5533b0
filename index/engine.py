"""The engine: one object that owns the store, the embedder and the vector index, used by the CLI,
the bot and tests alike. Built by an entry point and closed by it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embedding.embedder import Embedder, embedding_info, load_embedder
from .embedding.passages import Passager, embed_text
from .ingest import ingest_draft
from .metrics import Metrics
from .metrics import serve as serve_metrics
from .models import Article, ArticleDraft, Hit, IngestReport, Skipped, Stored
from .retrieval import follow, resident
from .retrieval import vectors as vector_index
from .retrieval.faiss_kinds import release_freed_memory, training_size
from .retrieval.lexical import needs_build
from .retrieval.lexical_serving import LexicalServing, Progress
from .retrieval.search import FusionWeights, hybrid_search
from .retrieval.vectors import VectorIndex, read_meta
from .scopes import OPERATOR, parse_scope, parse_viewer
from .storage.backends import open_store
from .storage.feedback import Feedback
from .storage.folder_lock import folder_lock
from .storage.records import Filters
from .storage.store import Store

log = logging.getLogger(__name__)


class ReindexBusy(RuntimeError):
    """A reindex is already running."""


class NotYours(PermissionError):
    """A server asked to remove an article it sees but did not bring (the operator's or a story the
    operator's sources carry too): only operators may."""


@dataclass(frozen=True)
class ReindexReport:
    chunks: int
    embedded: int
    reused: int
    seconds: float


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, store: Store | None = None):
        self.settings = settings
        self.store = store or open_store(settings)
        self.feedback = Feedback(self.store)  # members' votes and the question log, for the bot
        self._embedder = embedder
        self._vectors: VectorIndex | None = None
        self.lexical = LexicalServing(
            self.store, settings.data_dir, settings.lexical_dir, resident=settings.lexical_resident
        )
        self._passager: Passager | None = None
        # One writer of this process at a time (ingest, remove, reindex) and the only one to change the
        # live indexes; other processes' writes serialise with it through SQLite and the folder lock.
        self._write_lock = threading.RLock()
        self._seen_version = -1  # SQLite's data_version when the change log was last followed
        self._reindex_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.weights = FusionWeights()
        self._follower: follow.Follower | None = None  # started by `follow_changes`
        # What operators scrape (NEWSBOT_METRICS_PORT): counters added to by the engine and the bot.
        self.metrics = Metrics()
        self.metrics.follow_feeds(self.store.feeds.all)

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._load_lock:  # the bot's warm-up and a first question may race to load it
                if self._embedder is None:
                    self._embedder = self._load_embedder()
        return self._embedder

    def _load_embedder(self) -> Embedder:
        s = self.settings
        return load_embedder(
            s.model,
            device=s.device,
            batch_size=s.embed_batch_size,
            backend=s.embed_backend,
            cache_dir=s.embed_cache_dir,  # None: the user's cache, shared by every data folder
            keyed_as=(read_meta(s.index_dir) or {}).get("model"),
        )

    @property
    def passager(self) -> Passager:
        if self._passager is None:
            s = self.settings
            self._passager = Passager(
                self.embedder,
                self.store,
                chunk_tokens=s.chunk_tokens,
                overlap_sentences=s.chunk_overlap_sentences,
            )
        return self._passager

    @property
    def vectors(self) -> VectorIndex:
        """The live vector index, loaded on first use and kept in step with SQLite (the truth): what
        any process wrote since is applied first (one pragma when nothing was)."""
        if self._vectors is None:
            with self._write_lock:
                if self._vectors is None:
                    self.lexical.load()
                    self._vectors = self._load_vectors()
                    self.store.sources()  # every search reads the outlet list: build it while loading
        elif self.store.data_version() != self._seen_version and self._write_lock.acquire(blocking=False):
            try:  # (a writer of this process holding the lock follows the log itself when done)
                self._catch_up(self._vectors)
            finally:
                self._write_lock.release()
        return self._vectors

    def warm_up(self) -> None:
        """Load the model (and run it once: its first run prepares its kernels) and the indexes now,
        rather than on the first question."""
        self.embedder.embed(["warm up"])
        self.vectors  # noqa: B018 - loads the vector and keyword indexes
        if self.settings.database_url:  # a serving process on a shared database: follow it as it commits
            self.follow_changes()

    def _load_vectors(self) -> VectorIndex:
        """The saved index, brought up to date with SQLite (saved again if that changed it)."""
        e = self.embedder
        with folder_lock(self.settings.data_dir, shared=True):  # no version is removed while read
            index = VectorIndex.load(self.settings.index_dir, e.name, e.dimension)
        if index is None:
            index = VectorIndex(e.name, e.dimension)
        if self._catch_up(index):
            self._save_vectors(index)
        return index

    def _save_vectors(self, index: VectorIndex, *, rebuilt: bool = False) -> None:
        follow.save_if_newer(index, self.settings.data_dir, self.settings.index_dir, rebuilt=rebuilt)

    def _catch_up(self, index: VectorIndex) -> bool:
        """Apply to `index` what any process wrote to SQLite since the position it reflects (and serve
        a keyword index saved since); True if it changed."""
        self._seen_version = self.store.data_version()  # read first: a commit after it is seen next time
        changed = follow.catch_up(self.store, index, self._add_rows)
        if changed:
            self.lexical.follow()
        return changed

    def _add_rows(self, index: VectorIndex, rows: list[tuple[int, str, str, str]]) -> None:
        """Add (chunk id, key, title, text) rows, embedding only passages with no stored vector."""
        passager = self.passager
        items = []
        for chunk_id, _key, title, text in rows:
            heading = passager.heading(title)
            items.append((chunk_id, passager.key(embed_text(heading, text)), heading, text))
        embedded = passager.embedded
        vectors = passager.vectors_for([(key, heading, text) for _, key, heading, text in items])
        if passager.embedded != embedded:  # (a write only when something new was embedded)
            self.store.put_vectors(vectors)
        if items:
            index.add(np.array([i for i, *_ in items]), np.stack([vectors[k] for _, k, *_ in items]))

    def follow_changes(self, *, every: float = 5.0) -> follow.Follower:
        """Apply other processes' writes in the background as they commit (a serving process on a
        shared database): a question then finds them applied instead of applying them first."""
        if self._follower is None:
            self._follower = follow.Follower(self.store, self.catch_up_now, every=every).start()
        return self._follower

    def catch_up_now(self) -> None:
        """Apply what other processes wrote since (to the indexes loaded: none are loaded for it)."""
        if self._vectors is not None:
            self.vectors  # noqa: B018 - follows the change log when anything was committed
        self.store.sync_fulltext()

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        self.store.close()

    def metrics_endpoint(self) -> contextlib.AbstractContextManager[tuple[str, int] | None]:
        """Serve this engine's metrics and health on NEWSBOT_METRICS_HOST:NEWSBOT_METRICS_PORT for the
        block (yielding the address), or nothing when the port is unset. OSError if it is taken."""
        s = self.settings
        if s.metrics_port is None:
            return contextlib.nullcontext(None)
        return serve_metrics(self.metrics, s.metrics_host, s.metrics_port, self._health)

    def _health(self) -> str | None:
        """None when the store answers; what went wrong otherwise (for /healthz)."""
        try:
            self.store.feeds.next_due()
        except Exception as error:
            return f"the store does not answer ({error})"
        return None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def ingest(
        self,
        sources: Iterable[str],
        *,
        scope: str = OPERATOR,
        via: str = "manual",
        progress: Progress = _quiet,
        fetch_linked: bool | None = None,
    ) -> IngestReport:
        """Read (fetch) these sources and store their articles as brought by `scope` (index/scopes.py)
        `via` a way ("manual", "feed:<id>")."""
        from .sources import Fetcher, read_sources

        _check_claim(scope, via)
        s = self.settings
        with Fetcher(
            timeout=s.fetch_timeout,
            max_bytes=s.fetch_max_bytes,
            user_agent=s.user_agent,
            allow=s.fetch_allow_list,
        ) as fetcher:
            items = read_sources(
                sources,
                fetcher=fetcher,
                max_bytes=s.fetch_max_bytes,
                fetch_linked=s.fetch_linked if fetch_linked is None else fetch_linked,
                max_entries=s.feed_max_entries,
                max_linked=s.feed_max_linked,
            )
            return self.ingest_items(items, scope=scope, via=via, progress=progress)

    def ingest_items(
        self,
        items: Iterable[ArticleDraft | Skipped],
        *,
        scope: str = OPERATOR,
        via: str = "manual",
        progress: Progress = _quiet,
    ) -> IngestReport:
        """Store each article in a transaction of its own, with the claim of `scope` `via` a way
        (on the story it joins, when a copy), committed before `progress` reports it.

        Items are read (and URLs fetched) outside every lock: the write lock is taken per article, so
        a slow fetch never holds up removals, reindexes or other ingests. The derived files are saved
        once at the end; a crash before then loses none of them (loading catches up from SQLite)."""
        _check_claim(scope, via)
        report = IngestReport()
        self.vectors  # noqa: B018 - loaded (and caught up) before the first article
        for done, item in enumerate(items, start=1):
            if isinstance(item, Skipped):
                report.skipped.append(item)
            else:
                with self._write_lock:
                    self._ingest_one(item, report, (scope, via))
                    self._catch_up(self.vectors)
            progress("ingest", done, None)
        with self._write_lock:
            self._catch_up(self.vectors)
            self._save_vectors(self.vectors)
            impacts = self.store.impacts
            if needs_build(impacts, self.store.passages_after(impacts.max_id if impacts else 0)):
                self.lexical.build(progress)
        self.metrics.ingest_report(report.added, report.updated, report.duplicates, len(report.skipped))
        return report

    def _ingest_one(self, draft: ArticleDraft, report: IngestReport, claim: tuple[str, str]) -> None:
        try:
            outcome = ingest_draft(draft, self.store, self.passager, claim)
        except Exception as exc:  # one bad article never stops the batch
            log.exception("could not ingest %s", draft.origin)
            report.skipped.append(Skipped(draft.origin, f"could not be stored: {exc}"))
            return
        if outcome.kind == "skipped":
            report.skipped.append(Skipped(draft.origin, outcome.reason))
            return
        report.stored.append(Stored(outcome.article_id, outcome.story_id or outcome.article_id, outcome.kind))
        if outcome.kind == "added":
            report.added += 1
        elif outcome.kind == "updated":
            report.updated += 1
        else:
            report.duplicates += 1

    def remove(self, article_id: str, *, scope: str | None = None) -> bool:
        """Remove an article; another outlet's copy of its story, if any, takes its place.

        `scope` None (or the operator's) removes it for everyone. A server's scope removes only what it
        brought: its claims on the story go, and the story with them when no one else carries it;
        False when the server does not see the article at all, `NotYours` when it sees it without
        having brought it (the operator's news)."""
        if scope is not None and parse_scope(scope) != OPERATOR:
            story = self.store.story_of(article_id)
            if story is None or not self.store.visible(story, scope):
                return False
            if scope not in {s for s, _ in self.store.claims_of(story)}:
                raise NotYours(f"article {article_id} is the operator's news: only operators can remove it")
            self.release([story], scope=scope)
            return True
        with self._write_lock:
            if self.store.article(article_id) is None:
                return False
            _, heir = self.store.remove_story_article(article_id)
            if heir is not None:
                self._index_articles([heir])
            self._catch_up(self.vectors)
            self._save_vectors(self.vectors)
        return True

    def release(self, article_ids: Iterable[str], *, scope: str, via: str | None = None) -> list[str]:
        """Drop `scope`'s claims (of `via`, or all) on these articles' stories; what is left with no
        claim is removed (a claimed copy takes a story's place). Returns the removed article ids."""
        parse_scope(scope)
        with self._write_lock:
            removed, orphans = self.store.release_claims(list(article_ids), scope, via)
            for story in orphans:
                _, heir = self.store.remove_story_article(story)
                removed.append(story)
                if heir is not None:
                    self._index_articles([heir])
            self._catch_up(self.vectors)
            self._save_vectors(self.vectors)
        return removed

    def claimed(self, scope: str | None, *, limit: int | None = None) -> list[tuple[str, str]]:
        """(id, title) of the stories `scope` may remove, newest first: those it claims (a server),
        every one (None or the operator's)."""
        if scope is None or parse_scope(scope) == OPERATOR:
            return [(a.id, a.title) for a in self.store.articles(limit=limit)]
        return self.store.claimed_stories(scope, limit=limit)

    def _index_articles(self, articles: list[Article], *, reuse: bool = True) -> None:
        """(Re)build the passages of these articles in SQLite, each swapped in one transaction (the
        live indexes follow through the change log)."""
        passager = self.passager
        for article in articles:
            chunks = passager.chunk(article.title, article.body)
            vectors = passager.embed_chunks(article.title, chunks, reuse=reuse)
            self.store.replace_chunks(article, chunks, vectors)

    def reindex(self, *, full: bool = False, progress: Progress = _quiet) -> ReindexReport:
        """Rebuild the vector index from SQLite and swap it in when complete.

        Incremental (default) reuses every stored embedding; `full` re-chunks every article and
        embeds everything again. Searches keep using the previous index until the swap.
        """
        import time

        if not self._reindex_lock.acquire(blocking=False):
            raise ReindexBusy("a reindex is already running")
        try:
            started = time.perf_counter()
            e = self.embedder
            embedded_before = self.passager.embedded
            with self._write_lock:
                pending = self.store.articles() if full else self.store.articles_without_chunks()
                for done, article in enumerate(pending, start=1):
                    # The fresh index below is built from every passage: the live one is left alone
                    # (it may even belong to another model).
                    self._index_articles([article], reuse=not full)
                    progress("chunk", done, len(pending))
                seq = self.store.change_seq()  # read before the pages: what follows is caught up
                total, done = self.store.counts()["chunks"], 0
                # The vector index being built holds its vectors beside the live one's: the keyword
                # index gives up its resident pages meanwhile (searches read what they need).
                self.lexical.load()
                if self.store.impacts is not None:
                    resident.release(self.store.impacts.arrays())
                # A large corpus gets an inverted file trained on a random sample of its vectors first
                big = total >= vector_index.IVF_THRESHOLD
                sample = self.store.sample_vectors(training_size(total)) if big else None
                fresh = VectorIndex(e.name, e.dimension, expected=total, sample=sample)
                del sample
                for page in self.store.chunk_embed_keys(page=256):
                    self._add_rows(fresh, page)
                    done += len(page)
                    progress("reindex", done, total)
                # Other processes may have written while the pages were read: their passages follow.
                fresh.seq = seq
                follow.follow_log(self.store, fresh, self._add_rows, exact=False)
                self._save_vectors(fresh, rebuilt=True)
                # Serve the saved file rather than the index as filled: FAISS grows its lists by
                # doubling, so a filled index holds up to twice its vectors' memory.
                del fresh
                release_freed_memory()
                self._vectors = self._load_vectors()
                release_freed_memory()  # the previous index's memory, now unused
                self.store.prune_vectors()
                self.store.prune_changes(before=seq)
                if self.lexical.is_current():
                    self.lexical.page_in(self.store.impacts)
                else:
                    self.lexical.build(progress)
            embedded = self.passager.embedded - embedded_before
            return ReindexReport(done, embedded, max(done - embedded, 0), time.perf_counter() - started)
        finally:
            self._reindex_lock.release()

    @property
    def reindexing(self) -> bool:
        return self._reindex_lock.locked()

    # -- reading --------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        since: str | None = None,
        until: str | None = None,
        sources: Iterable[str] | None = None,
        viewer: str | None = None,
    ) -> list[Hit]:
        filters = Filters(since, until, tuple(sources) if sources else None, parse_viewer(viewer))
        return hybrid_search(
            query,
            store=self.store,
            vectors=self.vectors,
            embedder=self.embedder,
            k=k,
            filters=filters,
            per_article=self.settings.max_passages_per_article,
            weights=self.weights,
        )

    def article(self, article_id: str, *, viewer: str | None = None) -> Article | None:
        """The article, if stored (and one `viewer` may see)."""
        story = self.store.story_of(article_id) if viewer is not None else None
        if story is not None and not self.store.visible(story, viewer):
            return None
        article = self.store.article(article_id)
        if article is not None and viewer is not None and not self.store.visible(article_id, viewer):
            return None
        return article

    def articles(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        sources: Iterable[str] | None = None,
        limit: int | None = None,
        viewer: str | None = None,
    ) -> list[Article]:
        filters = Filters(since, until, tuple(sources) if sources else None, parse_viewer(viewer))
        return self.store.articles(filters, limit)

    # -- what answers read besides search ---------------------------------------------------------

    def sources(self, *, viewer: str | None = None) -> list[dict]:
        """Outlets with their article counts and newest article date, largest first."""
        return self.store.sources(parse_viewer(viewer))

    def copies_of(self, article_id: str, *, viewer: str | None = None) -> list[Article]:
        """Other outlets' copies of a story's main article (those `viewer` may see)."""
        return self.store.copies_of(article_id, parse_viewer(viewer))

    def outlets_of(self, article_id: str, *, viewer: str | None = None) -> list[str]:
        """Other outlets that published the same story (of the copies `viewer` may see)."""
        return self.store.outlets_of(article_id, parse_viewer(viewer))

    def viewed_by(self, viewer: str | None) -> Engine:
        """The engine as `viewer` sees it: its reads honour the viewer (the answers use it)."""
        return self if viewer is None else Viewed(self, parse_viewer(viewer))  # type: ignore[return-value]

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, dict[tuple[int, int], np.ndarray]]:
        """chunk id -> {sentence span: its pooled vector}, for the passages that have them."""
        return self.store.sentence_vectors(chunk_ids)

    def passage_count(self) -> int:
        return self.store.passage_count()

    def document_frequency(self, text: str) -> int:
        """How many passages contain any of the words of `text` (as BM25 would match them)."""
        return self.store.document_frequency(text)

    def stats(self) -> dict:
        s = self.settings
        meta = read_meta(s.index_dir) or {}
        counts = self.store.counts()
        if self._vectors is not None:
            vectors = self.vectors.count  # (after following what other processes wrote)
        elif meta.get("seq") is not None and meta["seq"] == self.store.change_seq():
            vectors = meta.get("count", 0)
        else:  # the saved index is behind SQLite (say, after a crash): loading catches up to it
            vectors = counts["chunks"]
        return {
            **counts,
            "vectors": vectors,
            "model": meta.get("model", self.settings.model),
            "dimension": meta.get("dimension"),
            "index_built_at": meta.get("built_at"),
            "updated_at": self.store.meta("updated_at"),
            **self._freshness(),
            "embedding": embedding_info(
                self._embedder, s.model, s.embed_backend, s.embed_cache_dir, meta.get("model")
            ),
        }

    def _freshness(self) -> dict:
        """How current the news is: the latest successful poll of all feeds and of each."""
        feeds = self.store.feeds.freshness()
        polls = [f["last_ok"] for f in feeds if f["last_ok"]]
        return {"news_as_of": max(polls, default=None), "feeds": feeds}


def _check_claim(scope: str, via: str) -> None:
    parse_scope(scope)
    if not isinstance(via, str) or not via.strip():
        raise ValueError(f'not a way an article came: {via!r} (expected "manual" or "feed:<id>")')


class Viewed:
    """An engine whose reads are those of one viewer (index/scopes.py); everything else is the
    engine's own. Answers take a viewer and read through this, so no read path can forget it."""

    def __init__(self, engine: Engine, viewer: str):
        self._engine, self.viewer = engine, viewer

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def search(self, query: str, **kwargs) -> list[Hit]:
        return self._engine.search(query, viewer=self.viewer, **kwargs)

    def articles(self, **kwargs) -> list[Article]:
        return self._engine.articles(viewer=self.viewer, **kwargs)

    def article(self, article_id: str) -> Article | None:
        return self._engine.article(article_id, viewer=self.viewer)

    def sources(self) -> list[dict]:
        return self._engine.sources(viewer=self.viewer)

    def copies_of(self, article_id: str) -> list[Article]:
        return self._engine.copies_of(article_id, viewer=self.viewer)

    def outlets_of(self, article_id: str) -> list[str]:
        return self._engine.outlets_of(article_id, viewer=self.viewer)

    def viewed_by(self, viewer: str | None) -> Engine:
        return self._engine.viewed_by(viewer)
