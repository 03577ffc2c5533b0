"""Which store a process opens: SQLite in the data folder (the default) or the PostgreSQL database
NEWSBOT_DATABASE_URL names (index/storage/postgres.py; psycopg is only imported then)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import Store

if TYPE_CHECKING:
    from ..config import Settings


def open_store(settings: Settings) -> Store:
    if settings.database_url:
        from .postgres import PgStore

        return PgStore(settings.database_url, settings.data_dir)
    return Store(settings.db_path, busy_timeout=settings.db_busy_timeout)
