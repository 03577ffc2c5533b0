"""The PostgreSQL schema, as named migrations applied in order (as migrations.py for SQLite).

Names follow SQLite's: a store that moves holds the same tables with the same columns. Text is compared
byte by byte (`COLLATE "C"`, as SQLite does), so orders and the guild scope range ('guild:' to
'guild;') are the same on both. The full-text index is not here: each process keeps its own
(index/storage/postgres.py), like its vector index. Applied under an advisory lock, so processes that
start together on a new database do not both create the tables."""

from __future__ import annotations

import psycopg

T = 'TEXT COLLATE "C"'
LOCK = 0x6E657773  # pg_advisory_lock key of the migrations ("news")
WRITE_LOCK = 1851881843  # pg_advisory_xact_lock key of every write (index/storage/postgres.py)

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "m001_articles_chunks",
        [
            f"CREATE TABLE articles (id {T} PRIMARY KEY, title {T}, title_derived INTEGER, source {T}, "
            f"url {T}, canonical_url {T}, published {T}, author {T}, body {T}, content_hash {T}, "
            f"origin {T}, ingested_at {T}, duplicate_of {T})",
            "CREATE INDEX idx_articles_canonical_url ON articles(canonical_url)",
            "CREATE INDEX idx_articles_content_hash ON articles(content_hash)",
            "CREATE INDEX idx_articles_duplicate_of ON articles(duplicate_of)",
            "CREATE INDEX idx_articles_published ON articles(published)",
            "CREATE INDEX idx_articles_source ON articles(source)",
            # a sequence never hands out an id twice: a stale vector never passes for a newer passage
            f"CREATE TABLE chunks (id BIGSERIAL PRIMARY KEY, article_id {T} NOT NULL REFERENCES "
            f'articles(id), position INTEGER, start INTEGER, "end" INTEGER, text {T}, embed_key {T})',
            "CREATE INDEX idx_chunks_article_id ON chunks(article_id)",
            f"CREATE TABLE embeddings (key {T} PRIMARY KEY, vector BYTEA)",
            f"CREATE TABLE minhashes (article_id {T} PRIMARY KEY, signature BYTEA)",
            f"CREATE TABLE minhash_bands (band {T}, article_id {T}, PRIMARY KEY (band, article_id))",
            "CREATE INDEX idx_minhash_bands_article_id ON minhash_bands(article_id)",
            f"CREATE TABLE meta (key {T} PRIMARY KEY, value {T})",
        ],
    ),
    (
        "m002_feedback_and_questions",
        [
            f"CREATE TABLE feedback (id BIGSERIAL PRIMARY KEY, message_id {T}, user_id {T}, question {T}, "
            f"vote INTEGER, created_at {T})",
            f"CREATE TABLE questions (id BIGSERIAL PRIMARY KEY, asked_at {T}, question {T}, "
            "abstained INTEGER, latency_ms DOUBLE PRECISION)",
        ],
    ),
    ("m003_chunk_sentences", [f"ALTER TABLE chunks ADD COLUMN sentences {T}"]),
    (
        "m004_outlets_index",
        ["CREATE INDEX idx_articles_outlets ON articles(duplicate_of, source, published)"],
    ),
    (
        "m005_answer_messages",
        # rowid: SQLite's insertion order, by which the oldest answers are forgotten first
        [
            f"CREATE TABLE answer_messages (message_id {T} PRIMARY KEY, context {T}, created_at {T}, "
            "rowid BIGSERIAL UNIQUE)"
        ],
    ),
    (
        "m006_sentence_vectors",
        [f"CREATE TABLE sentence_vectors (key {T} PRIMARY KEY, spans {T}, vectors BYTEA)"],
    ),
    (
        "m007_citation_index",
        [
            "CREATE INDEX idx_articles_cite ON articles(id) "
            "INCLUDE (duplicate_of, title, source, url, published)"
        ],
    ),
    (
        "m008_change_log",
        # Every passage added or removed, numbered in commit order: the trigger first takes the write
        # lock every store write holds (postgres.WRITE_LOCK), so a position is handed out only after
        # every earlier one committed, whatever wrote the passage. NOTIFY wakes the followers once
        # per transaction, on commit (identical notifications of one transaction are folded).
        [
            "CREATE TABLE changes (seq BIGSERIAL PRIMARY KEY, chunk_id BIGINT NOT NULL, "
            "op TEXT NOT NULL CHECK (op IN ('add', 'remove')))",
            f"""CREATE FUNCTION newsbot_log_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock({WRITE_LOCK});
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO changes (chunk_id, op) VALUES (NEW.id, 'add');
                ELSE
                    INSERT INTO changes (chunk_id, op) VALUES (OLD.id, 'remove');
                END IF;
                PERFORM pg_notify('newsbot_changes', current_schema());
                RETURN NULL;
            END $$""",
            "CREATE TRIGGER chunks_log AFTER INSERT OR DELETE ON chunks "
            "FOR EACH ROW EXECUTE FUNCTION newsbot_log_chunk()",
        ],
    ),
    (
        "m009_article_claims",
        [
            f"CREATE TABLE article_claims (article_id {T} NOT NULL, scope {T} NOT NULL, via {T} NOT NULL, "
            f"claimed_at {T} NOT NULL, PRIMARY KEY (article_id, scope, via))",
            "CREATE INDEX idx_claims_scope ON article_claims(scope, article_id)",
            "CREATE TABLE claims_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT)",
            "INSERT INTO claims_version VALUES (1, 0)",
            # as SQLite's triggers: count changes of the servers' claims and of their stories' passages
            """CREATE FUNCTION newsbot_guild_claimed(story TEXT) RETURNS boolean LANGUAGE sql STABLE AS $$
                SELECT EXISTS (SELECT 1 FROM article_claims g WHERE g.article_id = story
                               AND g.scope >= 'guild:' AND g.scope < 'guild;')
            $$""",
            """CREATE FUNCTION newsbot_bump_claims() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE row_scope TEXT; story TEXT;
            BEGIN
                IF TG_TABLE_NAME = 'chunks' THEN
                    story := NEW.article_id; row_scope := 'operator';
                ELSIF TG_OP = 'INSERT' THEN
                    story := NEW.article_id; row_scope := NEW.scope;
                ELSE
                    story := OLD.article_id; row_scope := OLD.scope;
                END IF;
                IF (TG_TABLE_NAME <> 'chunks' AND row_scope <> 'operator')
                   OR newsbot_guild_claimed(story) THEN
                    UPDATE claims_version SET version = version + 1 WHERE id = 1;
                END IF;
                RETURN NULL;
            END $$""",
            "CREATE TRIGGER claims_change AFTER INSERT OR DELETE ON article_claims "
            "FOR EACH ROW EXECUTE FUNCTION newsbot_bump_claims()",
            "CREATE TRIGGER claims_chunks AFTER INSERT ON chunks "
            "FOR EACH ROW EXECUTE FUNCTION newsbot_bump_claims()",
        ],
    ),
    (
        "m010_feeds",
        [
            f"CREATE TABLE feeds (id BIGSERIAL PRIMARY KEY, url {T} NOT NULL, title {T}, scope {T} NOT NULL, "
            f"channel_id BIGINT, interval_s INTEGER NOT NULL, etag {T}, last_modified {T}, "
            f"next_due DOUBLE PRECISION NOT NULL DEFAULT 0, last_checked {T}, last_ok {T}, last_new {T}, "
            f"last_error {T}, failures INTEGER NOT NULL DEFAULT 0, broken INTEGER NOT NULL DEFAULT 0, "
            f"paused INTEGER NOT NULL DEFAULT 0, added_by {T}, added_at {T} NOT NULL, UNIQUE (scope, url))",
            "CREATE INDEX idx_feeds_due ON feeds(paused, next_due)",
            f"CREATE TABLE feed_entries (feed_id BIGINT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, "
            f"entry_key {T} NOT NULL, version {T} NOT NULL, article_id {T}, seen_at {T} NOT NULL, "
            "backlog INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (feed_id, entry_key))",
            "CREATE INDEX idx_feed_entries_article ON feed_entries(article_id)",
            f"CREATE TABLE story_posts (scope {T} NOT NULL, story_id {T} NOT NULL, channel_id BIGINT, "
            f"posted_at {T} NOT NULL, PRIMARY KEY (scope, story_id))",
        ],
    ),
    (
        "m011_alerts",  # (SQLite's m011: topic alerts, the queue of new stories, posts per alert)
        [
            f"CREATE TABLE alerts (id BIGSERIAL PRIMARY KEY, scope {T} NOT NULL, target {T} NOT NULL, "
            f"topic {T} NOT NULL, topic_key {T} NOT NULL, vector BYTEA, model {T}, created_by {T}, "
            f"created_at {T} NOT NULL, paused INTEGER NOT NULL DEFAULT 0, last_error {T}, "
            "from_seq BIGINT NOT NULL DEFAULT 0, UNIQUE (scope, target, topic_key))",
            "CREATE INDEX idx_alerts_target ON alerts(target)",
            f"CREATE TABLE alert_queue (seq BIGSERIAL PRIMARY KEY, article_id {T} NOT NULL)",
            """CREATE FUNCTION newsbot_queue_alert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO alert_queue (article_id) VALUES (NEW.id);
                RETURN NULL;
            END $$""",
            "CREATE TRIGGER articles_alert_queue AFTER INSERT ON articles FOR EACH ROW "
            "WHEN (NEW.duplicate_of IS NULL) EXECUTE FUNCTION newsbot_queue_alert()",
            f"CREATE TABLE alert_posts (alert_id BIGINT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE, "
            f"story_id {T} NOT NULL, score DOUBLE PRECISION NOT NULL, start INTEGER NOT NULL, "
            f"\"end\" INTEGER NOT NULL, state {T} NOT NULL CHECK (state IN ('pending', 'claimed', "
            "'posted', 'deferred', 'delivered', 'failed')), matched_at DOUBLE PRECISION NOT NULL, "
            "claimed_at DOUBLE PRECISION, posted_at DOUBLE PRECISION, PRIMARY KEY (alert_id, story_id))",
            "CREATE INDEX idx_alert_posts_state ON alert_posts(state, alert_id)",
        ],
    ),
    (
        "m012_digests",  # (SQLite's m012 on main: scheduled digests and their runs, issue 20)
        [
            f"CREATE TABLE digest_schedules (id BIGSERIAL PRIMARY KEY, scope {T} NOT NULL, "
            f"channel_id BIGINT NOT NULL, schedule {T} NOT NULL, topic {T}, added_by {T}, "
            "created_at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX idx_digest_schedules_scope ON digest_schedules(scope)",
            "CREATE TABLE digest_runs (schedule_id BIGINT NOT NULL REFERENCES digest_schedules(id) "
            "ON DELETE CASCADE, due DOUBLE PRECISION NOT NULL, since DOUBLE PRECISION NOT NULL, "
            f"status {T} NOT NULL, stories {T} NOT NULL DEFAULT '[]', reason {T}, "
            "claimed_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION, "
            "PRIMARY KEY (schedule_id, due))",
        ],
    ),
    (
        "m013_leases",  # (SQLite's m013; the leases themselves are advisory locks on PostgreSQL)
        [
            "CREATE TABLE member_turns (bucket TEXT NOT NULL, member BIGINT NOT NULL, "
            "at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX idx_member_turns ON member_turns(bucket, member, at)",
            "CREATE INDEX idx_member_turns_age ON member_turns(bucket, at)",
        ],
    ),
    (
        "m014_digest_paused",  # (SQLite's m014: a server's schedules paused while the bot is away)
        ["ALTER TABLE digest_schedules ADD COLUMN paused INTEGER NOT NULL DEFAULT 0"],
    ),
]

TABLE = "_newsbot_migrations"


def applied(conn: psycopg.Connection) -> list[str]:
    exists = conn.execute("SELECT to_regclass(%s)", [TABLE]).fetchone()[0]
    if exists is None:
        return []
    return [r[0] for r in conn.execute(f"SELECT name FROM {TABLE} ORDER BY applied_order")]


def apply(conn: psycopg.Connection) -> list[str]:
    """Apply the pending migrations in order, each in its own transaction; the names applied."""
    done: list[str] = []
    conn.execute("SELECT pg_advisory_lock(%s)", [LOCK])
    try:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, applied_order SERIAL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        have = set(applied(conn))
        for name, statements in MIGRATIONS:
            if name in have:
                continue
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", [name])
            done.append(name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK])
    return done


def pending(conn: psycopg.Connection) -> list[str]:
    have = set(applied(conn))
    return [name for name, _ in MIGRATIONS if name not in have]
