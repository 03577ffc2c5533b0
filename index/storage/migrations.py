"""The SQLite schema, as named migrations applied in order (sqlite_utils.Migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from ..text import sentence_spans
from .spans import encode_spans

migrations = Migrations("newsbot")


@migrations()
def m001_articles_chunks(db: Database) -> None:
    db["articles"].create(
        {
            "id": str,
            "title": str,
            "title_derived": int,
            "source": str,
            "url": str,
            "canonical_url": str,
            "published": str,
            "author": str,
            "body": str,
            "content_hash": str,
            "origin": str,
            "ingested_at": str,
            "duplicate_of": str,
        },
        pk="id",
    )
    db["articles"].create_index(["canonical_url"])
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["duplicate_of"])
    db["articles"].create_index(["published"])
    db["articles"].create_index(["source"])
    # AUTOINCREMENT: a chunk id (= FAISS id) is never reused, so a stale vector can never pass for
    # a newer passage.
    db.execute(
        "CREATE TABLE chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "article_id TEXT NOT NULL REFERENCES articles(id), position INTEGER, start INTEGER, end INTEGER, "
        "text TEXT, embed_key TEXT)"
    )
    db["chunks"].create_index(["article_id"])
    # Lexical index over each passage with its article's title, outlet and date as extra columns.
    db.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "title, source, published, text, tokenize='porter unicode61 remove_diacritics 2')"
    )
    # Embeddings keyed by a hash of (model, embedded text): unchanged passages are never embedded twice.
    db["embeddings"].create({"key": str, "vector": bytes}, pk="key")
    db["minhashes"].create({"article_id": str, "signature": bytes}, pk="article_id")
    db["minhash_bands"].create({"band": str, "article_id": str}, pk=("band", "article_id"))
    db["minhash_bands"].create_index(["article_id"])
    db["meta"].create({"key": str, "value": str}, pk="key")


@migrations()
def m002_feedback_and_questions(db: Database) -> None:
    db["feedback"].create(
        {"id": int, "message_id": str, "user_id": str, "question": str, "vote": int, "created_at": str},
        pk="id",
    )
    db["questions"].create(
        {"id": int, "asked_at": str, "question": str, "abstained": int, "latency_ms": float}, pk="id"
    )


@migrations()
def m003_chunk_sentences(db: Database) -> None:
    """Each passage's sentence offsets, kept so search can rescore sentences without splitting them."""
    db.execute("ALTER TABLE chunks ADD COLUMN sentences TEXT")
    after = 0
    while rows := db.execute(
        "SELECT id, text FROM chunks WHERE id > ? ORDER BY id LIMIT 5000", [after]
    ).fetchall():
        db.conn.executemany(
            "UPDATE chunks SET sentences = ? WHERE id = ?",
            [(encode_spans(sentence_spans(text)), chunk_id) for chunk_id, text in rows],
        )
        after = rows[-1][0]


@migrations()
def m004_outlets_index(db: Database) -> None:
    """A covering index for the outlet list (`Store.sources`): grouping a million articles by outlet
    reads this instead of every article's row (and body)."""
    db.execute("CREATE INDEX idx_articles_outlets ON articles(duplicate_of, source, published)")


@migrations()
def m005_answer_messages(db: Database) -> None:
    """What each answer message was about (its question, filters and cited articles), so its buttons
    still work after a restart."""
    db["answer_messages"].create({"message_id": str, "context": str, "created_at": str}, pk="message_id")


@migrations()
def m006_sentence_vectors(db: Database) -> None:
    """Each embedded passage's sentence vectors (index/embedding/sentence_vectors.py), keyed like its
    embedding;
    `spans` are the sentences' offsets in the passage, as in `chunks.sentences`."""
    db["sentence_vectors"].create({"key": str, "spans": str, "vectors": bytes}, pk="key")


@migrations()
def m007_citation_index(db: Database) -> None:
    """A covering index for what a hit cites (`Store.passages`): its article is found and read in this
    index alone, instead of by the primary key's index and then its row, which holds the body before
    `duplicate_of` (overflow pages, for long articles): from a cold page cache, one page read per hit
    instead of two or more (docs/performance.md)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_cite "
        "ON articles(id, duplicate_of, title, source, url, published)"
    )


@migrations()
def m008_change_log(db: Database) -> None:
    """Every passage added or removed, numbered in commit order (writes are serialised, so a position
    commits only after every earlier one). Triggers write it in the transaction that changes `chunks`,
    whatever the path; each process's in-memory indexes follow it (index/retrieval/follow.py), and a
    saved index records the position it reflects. Positions are never reused (AUTOINCREMENT)."""
    db.execute(
        "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL, "
        "op TEXT NOT NULL CHECK (op IN ('add', 'remove')))"
    )
    db.execute(
        "CREATE TRIGGER chunks_log_add AFTER INSERT ON chunks "
        "BEGIN INSERT INTO changes (chunk_id, op) VALUES (new.id, 'add'); END"
    )
    db.execute(
        "CREATE TRIGGER chunks_log_remove AFTER DELETE ON chunks "
        "BEGIN INSERT INTO changes (chunk_id, op) VALUES (old.id, 'remove'); END"
    )


@migrations()
def m009_article_claims(db: Database) -> None:
    """Who brought each article: one row per (article, scope, way it came). A story's main article
    carries the claims of every scope that brought the story (its own or a near-duplicate copy); a
    copy carries those of the scopes that brought that copy (which outlets a viewer is told about).
    Articles stored before this migration were the operator's, added by hand."""
    db.execute(
        "CREATE TABLE article_claims (article_id TEXT NOT NULL, scope TEXT NOT NULL, via TEXT NOT NULL, "
        "claimed_at TEXT NOT NULL, PRIMARY KEY (article_id, scope, via)) WITHOUT ROWID"
    )
    # The servers' own news is looked up by scope (a small part of a large store).
    db.execute("CREATE INDEX idx_claims_scope ON article_claims(scope, article_id)")
    db.execute(
        "INSERT INTO article_claims (article_id, scope, via, claimed_at) "
        "SELECT id, 'operator', 'manual', coalesce(ingested_at, '') FROM articles"
    )
    # What a viewer may not see changes only with the servers' claims (or the passages of a server's
    # stories): triggers count those changes, whatever the path, so every process re-reads the servers'
    # news only when it changed, not on each of the operator's ingests (docs/processes.md).
    db.execute("CREATE TABLE claims_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER)")
    db.execute("INSERT INTO claims_version VALUES (1, 0)")
    bump = "UPDATE claims_version SET version = version + 1 WHERE id = 1"
    guild = "SELECT 1 FROM article_claims g WHERE g.article_id = {row}.article_id AND g.scope >= 'guild:' "
    guild += "AND g.scope < 'guild;'"
    for event, row in (("INSERT", "new"), ("DELETE", "old")):
        db.execute(
            f"CREATE TRIGGER claims_{event.lower()} AFTER {event} ON article_claims "
            f"WHEN {row}.scope != 'operator' OR EXISTS ({guild.format(row=row)}) BEGIN {bump}; END"
        )
    db.execute(
        f"CREATE TRIGGER claims_chunks AFTER INSERT ON chunks WHEN EXISTS ({guild.format(row='new')}) "
        f"BEGIN {bump}; END"
    )


@migrations()
def m010_feeds(db: Database) -> None:
    """Feeds the poller follows (index/live/), what it saw in each, and the stories posted to channels.

    `feeds`: one row per (scope, url), with its validators (etag, last_modified) for conditional
    requests, its schedule (`next_due`, seconds since the epoch) and its health. `feed_entries`: every
    entry read from a feed, by a key stable across polls (its link, else its text) and a version (a hash
    of its text), written after the entry's article commits, so a crash between the two only re-reads an
    entry that ingest then finds stored (a duplicate, never a second copy). `backlog` marks the entries
    found by a feed's first poll: they are indexed but not offered as new stories. `story_posts`: the
    stories posted to a scope's channels, recorded when the bot confirms it posted them."""
    db.execute(
        "CREATE TABLE feeds (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, title TEXT, "
        "scope TEXT NOT NULL, channel_id INTEGER, interval_s INTEGER NOT NULL, etag TEXT, "
        "last_modified TEXT, next_due REAL NOT NULL DEFAULT 0, last_checked TEXT, last_ok TEXT, "
        "last_new TEXT, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0, "
        "broken INTEGER NOT NULL DEFAULT 0, paused INTEGER NOT NULL DEFAULT 0, added_by TEXT, "
        "added_at TEXT NOT NULL, UNIQUE (scope, url))"
    )
    db.execute("CREATE INDEX idx_feeds_due ON feeds(paused, next_due)")
    db.execute(
        "CREATE TABLE feed_entries (feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, "
        "entry_key TEXT NOT NULL, version TEXT NOT NULL, article_id TEXT, seen_at TEXT NOT NULL, "
        "backlog INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (feed_id, entry_key))"
    )
    db.execute("CREATE INDEX idx_feed_entries_article ON feed_entries(article_id)")
    db.execute(
        "CREATE TABLE story_posts (scope TEXT NOT NULL, story_id TEXT NOT NULL, channel_id INTEGER, "
        "posted_at TEXT NOT NULL, PRIMARY KEY (scope, story_id))"
    )


@migrations()
def m011_alerts(db: Database) -> None:
    """Topic alerts (index/live/alerts.py): what a server's channel or a member follows, the new stories
    queued for matching, and one row per (alert, story) matched.

    `alerts`: one row per (scope, target, topic), the target a channel ("channel:<id>", a server's
    admins) or a member ("user:<id>", delivered by DM); the topic's vector is embedded once and kept
    with the model that made it, and `from_seq`, the queue's end when it was made (only stories
    queued after it are news to it). `alert_queue`: every new story's main article, written by a trigger in
    the transaction that stores it, whatever the process (numbered, never reused); the matcher reads it
    past a high-water mark (`meta` key "alerts_seq"). `alert_posts`: the unique key (alert, story) is
    claimed in a write transaction before posting, and `state` goes pending → claimed → posted only
    once Discord accepted it (or deferred past the hourly cap, failed when it could not be delivered)."""
    db.execute(
        "CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, "
        "target TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL, vector BLOB, model TEXT, "
        "created_by TEXT, created_at TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0, last_error TEXT, "
        "from_seq INTEGER NOT NULL DEFAULT 0, UNIQUE (scope, target, topic_key))"
    )
    db.execute("CREATE INDEX idx_alerts_target ON alerts(target)")
    db.execute("CREATE TABLE alert_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL)")
    db.execute(
        "CREATE TRIGGER articles_alert_queue AFTER INSERT ON articles WHEN new.duplicate_of IS NULL "
        "BEGIN INSERT INTO alert_queue (article_id) VALUES (new.id); END"
    )
    db.execute(
        "CREATE TABLE alert_posts (alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE, "
        "story_id TEXT NOT NULL, score REAL NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'posted', 'deferred', 'delivered', "
        "'failed')), matched_at REAL NOT NULL, claimed_at REAL, posted_at REAL, "
        "PRIMARY KEY (alert_id, story_id))"
    )
    db.execute("CREATE INDEX idx_alert_posts_state ON alert_posts(state, alert_id)")


@migrations()
def m012_digests(db: Database) -> None:
    """Scheduled digests (index/live/digests.py) and their runs.

    `digest_schedules`: one row per schedule of a scope, its local time as written ("daily 08:00
    Europe/Paris", parsed again when read) and `created_at` (seconds since the epoch): only due times
    after it are run. `digest_runs`: one row per (schedule, due time), inserted in a write transaction
    before the digest is posted, so whichever process inserts it first makes that run and no other
    does; `status` says what became of it ("claimed", then "delivered", "empty" or "failed"), `stories`
    the story ids it carried (JSON), so the next run of the schedule does not repeat them."""
    db.execute(
        "CREATE TABLE digest_schedules (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, "
        "channel_id INTEGER NOT NULL, schedule TEXT NOT NULL, topic TEXT, added_by TEXT, "
        "created_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX idx_digest_schedules_scope ON digest_schedules(scope)")
    db.execute(
        "CREATE TABLE digest_runs (schedule_id INTEGER NOT NULL REFERENCES digest_schedules(id) "
        "ON DELETE CASCADE, due REAL NOT NULL, since REAL NOT NULL, status TEXT NOT NULL, "
        "stories TEXT NOT NULL DEFAULT '[]', reason TEXT, claimed_at REAL NOT NULL, finished_at REAL, "
        "PRIMARY KEY (schedule_id, due))"
    )


@migrations()
def m013_leases(db: Database) -> None:
    """Once-only work (polling feeds, posting stories) is done by the process holding its lease
    (index/coordination.py): one row per kind of work, naming its holder until `expires_at` (seconds
    since the epoch). A holder renews it well before then; another process takes it once it expired.

    `member_turns`: when each member asked (per bucket: questions, votes), kept for the cooldown window,
    so the per-member limits hold across the bot processes sharing the store (bot/limits.py)."""
    db.execute(
        "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL, "
        "acquired_at REAL NOT NULL)"
    )
    db.execute("CREATE TABLE member_turns (bucket TEXT NOT NULL, member INTEGER NOT NULL, at REAL NOT NULL)")
    db.execute("CREATE INDEX idx_member_turns ON member_turns(bucket, member, at)")
    db.execute("CREATE INDEX idx_member_turns_age ON member_turns(bucket, at)")


@migrations()
def m014_digest_paused(db: Database) -> None:
    """A digest schedule of a server the bot left is paused (`paused` = 1): it makes no runs until the
    bot is back in that server (index/live/digests.py pause_scope, resume_scope)."""
    db.execute("ALTER TABLE digest_schedules ADD COLUMN paused INTEGER NOT NULL DEFAULT 0")
