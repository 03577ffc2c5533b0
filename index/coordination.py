"""Once-only work across processes: a lease per kind of work, held by one process at a time.

Any number of processes may share one store (a bot and `newsbot watch` on one data folder; several
bots on one PostgreSQL). Work that must happen once — polling the feeds, posting new stories — is done
only by the process holding its lease. Two implementations behind one `Lease`:

- `SqliteLease`: a row of the `leases` table (migration m013) naming its holder until an expiry. The
  holder renews it every third of its time (`LeaseKeeper`); a holder that dies (even by kill -9) stops
  renewing, and another process takes the row over at its first try after the expiry: within
  `ttl + ttl/3` (40 s with the default 30 s).
- `PgLease`: `pg_try_advisory_lock` on a connection of its own. PostgreSQL releases a session's
  advisory locks when the session ends, so a dead process's lock is gone as soon as the server sees its
  connection close (at once after kill -9, whose kernel closes the socket; after the TCP keepalives set
  below, about 25 s, when a whole machine vanishes), and another process takes it at its next try.

A holder believes it holds a lease only until its last confirmation plus `ttl` (`held()`): a process
that cannot renew (its disk or its database connection is gone) stops the work by itself instead of
doing it beside the process that took over. Every time is read from `now`, so tests move a clock of
their own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .storage import leases as sql

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
POLL = "poll"  # checking the feeds (the bot's poller thread or `newsbot watch`)
POST = "post"  # posting new stories to channels (one bot among several)
DEFAULT_TTL = 30.0


def holder_id() -> str:
    """This process, as lease holders are named: host:pid:random (a pid is reused; the suffix is not)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease(ABC):
    """One kind of work, held by at most one process; `acquire` and `renew` are tries, never waits."""

    def __init__(self, name: str, *, ttl: float, holder: str | None, now: Clock) -> None:
        self.name = name
        self.ttl = ttl
        self.holder_id = holder or holder_id()
        self.now = now
        self._confirmed: float | None = None  # when this process last knew it held the lease

    def held(self) -> bool:
        """Whether this process holds the lease: confirmed less than `ttl` ago (no I/O)."""
        return self._confirmed is not None and self.now() < self._confirmed + self.ttl

    def _confirm(self, holds: bool, at: float) -> bool:
        self._confirmed = at if holds else None
        return holds

    @abstractmethod
    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or it is ours already); True if this process holds it."""

    @abstractmethod
    def renew(self) -> bool:
        """Confirm and extend this process's hold; False if it lost the lease."""

    @abstractmethod
    def release(self) -> None:
        """Give the lease up (another process may take it at once)."""

    @abstractmethod
    def holder(self) -> str | None:
        """Who holds the lease now (any process), None if nobody does."""

    @abstractmethod
    def close(self) -> None:
        """Release the lease if held, and close what the lease opened."""


class SqliteLease(Lease):
    """A `leases` row in the SQLite file at `path` (its migrations applied by the Store first)."""

    def __init__(
        self,
        path: Path | str,
        name: str,
        *,
        ttl: float = DEFAULT_TTL,
        holder: str | None = None,
        now: Clock = time.time,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__(name, ttl=ttl, holder=holder, now=now)
        # A connection of its own: renewing never waits behind this process's writes to the store.
        self._conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
        self._lock = threading.Lock()

    def _run(self, step: Callable[..., Any], *args: object) -> Any:
        with self._lock:
            return step(self._conn, self.name, *args)

    def acquire(self) -> bool:
        at = self.now()
        return self._confirm(self._run(sql.take, self.holder_id, at, self.ttl), at)

    def renew(self) -> bool:
        at = self.now()
        return self._confirm(self._run(sql.extend, self.holder_id, at, self.ttl), at)

    def release(self) -> None:
        self._confirmed = None
        self._run(sql.drop, self.holder_id)

    def holder(self) -> str | None:
        return self._run(sql.current, self.now())

    def close(self) -> None:
        try:
            self.release()
        finally:
            self._conn.close()


def advisory_key(name: str) -> int:
    """A stable 63-bit key for `name` (pg_locks shows it as classid = high, objid = low 32 bits)."""
    return int.from_bytes(hashlib.blake2b(f"newsbot:{name}".encode(), digest_size=8).digest()) >> 1


# The server drops a vanished client's session (and its lock) after 10 + 3 × 5 s of silence instead of
# the kernel's default two hours; a holder's own check fails sooner (`ttl`).
_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"


class PgLease(Lease):
    """A session-level advisory lock on a PostgreSQL connection of its own (psycopg 3)."""

    def __init__(
        self,
        url: str,
        name: str,
        *,
        ttl: float = 20.0,
        holder: str | None = None,
        now: Clock = time.time,
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__(name, ttl=ttl, holder=holder, now=now)
        self.url = url
        self.key = advisory_key(name)
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        import psycopg  # the optional extra `postgres`: only a PostgreSQL deployment needs it

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.url,
                autocommit=True,
                # The holder's name, as other processes read it from pg_stat_activity (63 bytes at most).
                application_name=self.holder_id[-63:],
                connect_timeout=max(1, round(self.connect_timeout)),
                options=_KEEPALIVES,
            )
        return self._conn

    def _query(self, sql_text: str, args: tuple = ()) -> Any:
        """One query's first value; a broken connection is dropped (and the lock with it)."""
        import psycopg

        with self._lock:
            try:
                return self._connection().execute(sql_text, args).fetchone()[0]
            except psycopg.OperationalError:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                raise

    def _holds(self) -> bool:
        high, low = self.key >> 32, self.key & 0xFFFFFFFF
        return self._query(
            "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1 AND granted",
            (high, low),
        )

    def acquire(self) -> bool:
        at = self.now()
        if self._holds():  # session locks stack: never take it twice (one unlock must free it)
            return self._confirm(True, at)
        return self._confirm(bool(self._query("SELECT pg_try_advisory_lock(%s)", (self.key,))), at)

    def renew(self) -> bool:
        at = self.now()
        return self._confirm(bool(self._holds()), at)

    def release(self) -> None:
        if self._confirmed is None:
            return
        self._confirmed = None
        self._query("SELECT pg_advisory_unlock(%s)", (self.key,))

    def holder(self) -> str | None:
        high, low = self.key >> 32, self.key & 0xFFFFFFFF
        return self._query(
            "SELECT (SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
            "AND l.objsubid = 1 AND l.granted LIMIT 1)",
            (high, low),
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()  # ending the session releases its locks
            self._conn = None
            self._confirmed = None


def work_lease(settings: Settings, name: str, *, now: Clock = time.time) -> Lease:
    """The lease of `name` for processes sharing this store: PostgreSQL's advisory lock when the store
    is PostgreSQL (NEWSBOT_DATABASE_URL), a row of news.db otherwise."""
    url = getattr(settings, "database_url", None)
    if url and str(url).startswith(("postgresql://", "postgres://")):
        return PgLease(str(url), name, ttl=settings.lease_seconds * 2 / 3, now=now)
    return SqliteLease(settings.db_path, name, ttl=settings.lease_seconds, now=now)


class LeaseKeeper:
    """Keeps trying to take `lease` and renews it while held, every `ttl / 3` seconds, in a thread.

    `held()` is what the work checks before each round. `on_change(held, holder)` hears when this
    process gains or loses the lease (from the keeper's thread). Closing releases the lease, so another
    process takes over at its next try instead of after the expiry."""

    def __init__(self, lease: Lease, *, on_change: Callable[[bool, str | None], None] | None = None) -> None:
        self.lease = lease
        self.every = lease.ttl / 3
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_held: bool | None = None  # (None: not tried yet, so the first try is heard)

    def held(self) -> bool:
        return self.lease.held()

    def step(self) -> bool:
        """One try (to renew when held, to take otherwise); a failing store is a lease not held."""
        try:
            holds = self.lease.renew() if self.lease.held() else self.lease.acquire()
        except Exception as error:  # the database is locked, gone or unreachable: try again later
            log.warning("lease %r: could not be checked (%s)", self.lease.name, error)
            holds = False
        if holds != self._was_held:
            self._was_held = holds
            holder = self.lease.holder_id if holds else self._holder()
            log.info(
                "lease %r: %s", self.lease.name, "held by this process" if holds else f"held by {holder}"
            )
            if self.on_change is not None:
                self.on_change(holds, holder)
        return holds

    def _holder(self) -> str | None:
        try:
            return self.lease.holder()
        except Exception:
            return None

    def start(self) -> LeaseKeeper:
        """Try once now (so the caller knows at once), then keep trying in a thread."""
        self.step()
        self._thread = threading.Thread(
            target=self._run, name=f"newsbot-lease-{self.lease.name}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.step()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.lease.close()
        except Exception as error:  # its expiry frees it anyway
            log.warning("lease %r: could not be released (%s)", self.lease.name, error)

    def __enter__(self) -> LeaseKeeper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
