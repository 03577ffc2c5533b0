"""SQLite: the source of truth, its schema, and what is kept beside it."""
