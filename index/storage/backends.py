"""Which store a process opens: SQLite in the data folder (the default) or the PostgreSQL database
NEWSBOT_DATABASE_URL names (index/storage/postgres.py; psycopg is only imported then)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import Store, StoreUnusable

if TYPE_CHECKING:
    from ..config import Settings


def open_store(settings: Settings) -> Store:
    if settings.database_url:
        try:
            from .postgres import PgStore
        except ImportError as error:
            raise StoreUnusable(
                f"NEWSBOT_DATABASE_URL needs psycopg ({error}): pip install 'newsbot[postgres]'"
            ) from None
        return PgStore(settings.database_url, settings.data_dir)
    return Store(settings.db_path, busy_timeout=settings.db_busy_timeout)
