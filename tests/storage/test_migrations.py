"""Schema upgrades run on open and fill what older stores lack."""

import sqlite3

from sqlite_utils import Database, Migrations

from index.storage.migrations import migrations
from index.storage.spans import decode_spans
from index.storage.store import Store
from index.text import sentence_spans

BODY = "The council met on Monday. It approved 40 buses (at $1.5m each). Residents cheered! Dr. Lee spoke."


def test_a_store_from_before_sentence_offsets_gets_them_on_open(tmp_path):
    path = tmp_path / "news.db"
    old = Migrations("newsbot")
    old._migrations = migrations._migrations[:2]  # the schema as it was before m003
    db = Database(sqlite3.connect(path))
    old.apply(db)
    db["articles"].insert({"id": "a1", "title": "Buses", "body": BODY})
    db.execute(
        "INSERT INTO chunks (article_id, position, start, end, text) VALUES ('a1', 0, 0, ?, ?)",
        [len(BODY), BODY],
    )
    db.conn.commit()
    db.close()

    store = Store(path)
    (stored,) = store.db.execute("SELECT sentences FROM chunks").fetchone()
    assert decode_spans(stored) == sentence_spans(BODY)
    assert len(decode_spans(stored)) == 4  # "Dr." and "$1.5m" are not sentence ends
    row = next(iter(store.passage_texts([1]).values()))
    assert decode_spans(row[3]) == sentence_spans(BODY)
