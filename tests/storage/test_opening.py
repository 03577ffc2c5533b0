"""Opening the store beside other processes: a process that opens a data folder while another sets it
up (creates news.db, switches it to WAL, applies the migrations) must wait, never see it half made."""

from __future__ import annotations

import threading

from index.storage.folder_lock import folder_lock
from index.storage.store import Store


def test_opening_waits_for_whoever_holds_the_folder(tmp_path):
    data = tmp_path / "data"
    Store(data / "news.db").close()
    opened = threading.Event()
    stores: list[Store] = []

    def open_store() -> None:
        stores.append(Store(data / "news.db"))
        opened.set()

    with folder_lock(data):  # as a process creating the database holds it
        thread = threading.Thread(target=open_store, daemon=True)
        thread.start()
        assert not opened.wait(0.5), "the store was opened while another process held the folder"
    assert opened.wait(30)
    thread.join()
    assert stores[0].counts()["articles"] == 0
    stores[0].close()
