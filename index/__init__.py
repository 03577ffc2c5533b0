"""newsbot's news engine: ingest, store, chunk, embed, search, answer. No Discord code here."""
