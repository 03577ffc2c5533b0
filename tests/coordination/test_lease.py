"""The work lease (index/coordination.py): one holder at a time, taken over after its holder stops.

SQLite leases on a real news.db with a clock the tests move; PostgreSQL leases on the server at
127.0.0.1:5432 (skipped, saying so, when none answers)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from index.config import Settings
from index.coordination import LeaseKeeper, PgLease, SqliteLease, advisory_key, holder_id, work_lease
from index.storage.store import Store
from tests.conftest import PG_SERVER
from tests.live.conftest import Clock

PG_URL = PG_SERVER  # NEWSBOT_TEST_POSTGRES, as for the store's tests


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "data" / "news.db"
    Store(path).close()  # migrations applied, as an engine opening the folder does
    return path


def test_one_holder_until_it_stops_renewing_then_another_takes_over(db_path):
    clock = Clock()
    first = SqliteLease(db_path, "poll", ttl=30, holder="a", now=clock)
    second = SqliteLease(db_path, "poll", ttl=30, holder="b", now=clock)
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    assert first.holder() == second.holder() == "a"
    clock.advance(20)
    assert first.renew()  # renewed: good for 30 s from now
    clock.advance(20)
    assert not second.acquire()  # 40 s after taking it, still first's
    clock.advance(11)  # first stopped renewing (killed): its time ran out
    assert not first.held() and second.holder() is None
    assert second.acquire() and second.holder() == "b"
    assert not first.renew() and not first.held()  # the old holder learns it lost it
    assert not first.acquire()


def test_release_hands_over_at_once_and_leases_are_per_name(db_path):
    clock = Clock()
    first = SqliteLease(db_path, "poll", holder="a", now=clock)
    second = SqliteLease(db_path, "poll", holder="b", now=clock)
    other_work = SqliteLease(db_path, "post", holder="b", now=clock)
    assert first.acquire() and other_work.acquire()
    first.close()
    assert second.acquire() and second.holder() == "b"
    assert not first.held()


def test_keeper_reports_gaining_and_losing(db_path):
    clock = Clock()
    rival = SqliteLease(db_path, "poll", holder="rival", now=clock)
    assert rival.acquire()
    heard = []
    keeper = LeaseKeeper(
        SqliteLease(db_path, "poll", holder="me", now=clock), on_change=lambda *a: heard.append(a)
    )
    assert not keeper.step() and heard == [(False, "rival")]
    clock.advance(31)
    assert keeper.step() and heard[-1] == (True, "me") and keeper.held()
    assert keeper.step() and len(heard) == 2  # renewed: nothing new to hear
    keeper.close()
    assert rival.acquire()


def test_holder_ids_name_host_and_process_and_differ():
    a, b = holder_id(), holder_id()
    assert a != b and a.split(":")[1] == b.split(":")[1] == str(os.getpid())


def test_work_lease_is_sqlite_by_default_with_the_configured_time(tmp_path):
    Store(tmp_path / "news.db").close()
    lease = work_lease(Settings(data_dir=tmp_path, lease_seconds=12, _env_file=None), "poll")
    try:
        assert isinstance(lease, SqliteLease) and lease.ttl == 12
    finally:
        lease.close()


def test_lease_seconds_below_three_is_refused():
    with pytest.raises(ValueError, match="lease_seconds"):
        Settings(lease_seconds=1, _env_file=None)


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def pg_url():
    psycopg = pytest.importorskip(
        "psycopg", reason="psycopg is not installed (pip install newsbot[postgres])"
    )
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL server answers at {PG_URL} ({error}): PgLease tests not run")
    return PG_URL


def takes(lease: PgLease, tries: int = 200) -> bool:
    """Whether `lease` is taken within `tries` tries, 0.1 s apart (as a LeaseKeeper tries, faster)."""
    keeper = LeaseKeeper(lease)
    for _ in range(tries):
        if keeper.step():
            return True
        time.sleep(0.1)
    return False


def test_pg_one_holder_and_its_closed_session_frees_the_lock(pg_url):
    name = f"test-{holder_id()}"
    first, second = PgLease(pg_url, name, holder="pg-a"), PgLease(pg_url, name, holder="pg-b")
    try:
        assert first.acquire() and first.held()
        first._confirmed = None  # (as if its confirmation lapsed while the session kept the lock)
        assert first.acquire()  # again: still one lock, released by one unlock
        assert not second.acquire() and second.holder() == "pg-a"
        assert first.renew()
        first.close()  # the session ends (the server's backend exits a moment later)
        assert takes(second) and second.holder() == "pg-b"
        assert not first.renew() and not first.held()  # (a new session, without the lock)
    finally:
        first.close()
        second.close()


def test_pg_release_then_nobody_holds(pg_url):
    name = f"test-{holder_id()}"
    lease = PgLease(pg_url, name, holder="pg-a")
    try:
        assert lease.acquire() and lease.acquire()
        lease._confirmed = None
        assert lease.acquire()  # taken three times: one lock
        lease.release()
        assert lease.holder() is None and not lease.held()
    finally:
        lease.close()


def test_pg_kill_9_of_the_holder_process_frees_the_lock(pg_url, tmp_path):
    """A real process takes the lock and is killed with SIGKILL: the server ends its session, and
    another process takes the lock at its next try."""
    name = f"test-{holder_id()}"
    script = textwrap.dedent(
        f"""
        import sys, time
        from index.coordination import PgLease
        lease = PgLease({pg_url!r}, {name!r}, holder="doomed")
        assert lease.acquire()
        print("held", flush=True)
        time.sleep(600)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    doomed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    survivor = PgLease(pg_url, name, holder="survivor")
    try:
        assert doomed.stdout.readline().strip() == "held"
        assert not survivor.acquire() and survivor.holder() == "doomed"
        doomed.kill()
        doomed.wait(timeout=30)
        assert takes(survivor)
        assert survivor.held() and survivor.holder() == "survivor"
    finally:
        doomed.kill()
        survivor.close()


def test_advisory_keys_are_stable_and_positive_63_bit():
    assert advisory_key("poll") == advisory_key("poll") != advisory_key("post")
    assert 0 <= advisory_key("poll") < 2**63
