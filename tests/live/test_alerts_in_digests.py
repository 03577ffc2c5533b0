"""Alerts past a channel's hourly cap wait for that channel's digest (index/live/alerts.py with
index/live/digests.py), with the clock in the tests' hands: the next run of the channel's schedule lists
them, they are marked delivered only once the run was delivered, and never carried twice."""

from __future__ import annotations

from index.live import alerts, digests
from tests.live.conftest import START
from tests.live.test_alerts import TOPIC, ingest, story

GUILD = "guild:1"
NINE = START + 3600  # the schedule's first due time, 2026-12-02 09:00 UTC


def overflowing(engine, *, channel_id: int = 9) -> list[str]:
    """Three stories for a channel whose cap is one an hour: one sent, two deferred (returned).
    Published before the digest's period, so the digest itself does not show them."""
    alerts.add(engine, TOPIC, scope=GUILD, channel_id=channel_id, now=START)
    ingest(engine, *(story(n, published="2026-11-30") for n in range(40, 43)), scope=GUILD)
    assert alerts.scan(engine, now=START) == 3
    sent = alerts.deliveries(engine, per_hour=1, now=START, digest_channels=digests.digest_channels(engine))
    assert len(sent) == 1 and not sent[0].more
    alerts.mark_sent(engine, sent[0], now=START)
    return alerts.deferred_for(engine, channel_id)


def test_past_the_cap_stories_wait_for_the_channel_digest_and_are_delivered_once(engine):
    schedule = digests.add_schedule(engine, scope=GUILD, channel_id=9, when="daily 09:00 UTC", now=START)
    assert digests.digest_channels(engine) == {9}
    waiting = overflowing(engine)
    assert len(waiting) == 2
    # The cap opens again, but a channel with a digest gets no "N more stories" message.
    later = alerts.deliveries(engine, per_hour=1, now=START + 3601, digest_channels={9})
    assert not any(d.more for d in later)
    assert sorted(alerts.deferred_for(engine, 9)) == sorted(waiting)

    [run] = digests.claim_due(engine, now=NINE + 60)
    assert run.schedule.id == schedule.id
    assert sorted(run.deferred_ids) == sorted(waiting)
    listed = {s.story_id: s for s in run.alert_stories}
    assert set(listed) == set(waiting) and not set(listed) & set(run.digest.story_ids)
    assert all(s.title.startswith("Rates story 4") and s.url for s in listed.values())
    assert run.has_content

    digests.finish_run(engine, run, "delivered", now=NINE + 70)
    assert alerts.deferred_for(engine, 9) == []
    [next_day] = digests.claim_due(engine, now=NINE + 86400)
    assert next_day.deferred_ids == [] and next_day.alert_stories == []  # never carried twice
    assert alerts.deliveries(engine, per_hour=1, now=NINE + 86400, digest_channels={9}) == []


def test_a_failed_digest_leaves_them_for_the_next_run(engine):
    digests.add_schedule(engine, scope=GUILD, channel_id=9, when="daily 09:00 UTC", now=START)
    waiting = overflowing(engine)
    [run] = digests.claim_due(engine, now=NINE)
    digests.finish_run(engine, run, "failed", reason="Discord refused it (403)", now=NINE + 5)
    assert sorted(alerts.deferred_for(engine, 9)) == sorted(waiting)  # not delivered: still waiting
    [again] = digests.claim_due(engine, now=NINE + 86400)
    assert sorted(again.deferred_ids) == sorted(waiting)
    digests.finish_run(engine, again, "delivered", now=NINE + 86405)
    assert alerts.deferred_for(engine, 9) == []


def test_only_the_channel_own_digest_carries_them(engine):
    digests.add_schedule(engine, scope=GUILD, channel_id=8, when="daily 09:00 UTC", now=START)
    digests.add_schedule(engine, scope=GUILD, channel_id=9, when="daily 09:00 UTC", now=START)
    digests.add_schedule(
        engine, scope=GUILD, channel_id=9, when="daily 09:00 UTC", topic="harbour", now=START
    )
    waiting = overflowing(engine)
    runs = digests.claim_due(engine, now=NINE)
    carried = {(r.schedule.channel_id, r.schedule.topic): sorted(r.deferred_ids) for r in runs}
    assert carried[(8, None)] == []
    # One of the channel's two runs lists them, not both.
    assert sorted([carried[(9, None)], carried[(9, "harbour")]]) == [[], sorted(waiting)]


def test_without_a_digest_they_come_as_one_message_when_the_cap_opens(engine):
    waiting = overflowing(engine)
    [more] = alerts.deliveries(
        engine, per_hour=1, now=START + 3601, digest_channels=digests.digest_channels(engine)
    )
    assert more.more and sorted(k[1] for k in more.keys) == sorted(waiting)
