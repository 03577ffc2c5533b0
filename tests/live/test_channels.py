"""What the bot reports back: a channel it cannot post to, servers it left or rejoined."""

from __future__ import annotations

import pytest

from index.live import alerts, digests, pending_posts
from index.live import feeds as live_feeds
from index.live.channels import departed_scopes, pause_server, post_failed, resume_scope, resume_server
from index.models import ArticleDraft
from tests.live.conftest import entries

RATES = (
    "The central bank raised interest rates again on Tuesday. Interest rates now weigh on mortgages and "
    "loans. Economists expect interest rates to stay high for a year."
)


def test_a_failed_post_is_the_feeds_last_error_and_a_gone_channel_detaches_them(engine, poller, clock, site):
    feed = live_feeds.add(engine, site.url, scope="guild:7", channel_id=42, poller=poller)
    assert post_failed(engine, 42, "cannot post in #news: missing Send Messages") == 1
    assert live_feeds.get(engine, feed.id).last_error == "cannot post in #news: missing Send Messages"
    assert live_feeds.get(engine, feed.id).channel_id == 42
    site.entries.extend(entries(20, 1))
    poller.run_once(force=True)
    assert [offer.channel_id for offer in pending_posts(engine)] == [42]
    post_failed(engine, 42, "its channel was deleted", stop=True)
    assert live_feeds.get(engine, feed.id).channel_id is None
    assert pending_posts(engine) == []  # nothing left to post anywhere: no retries


def test_feeds_of_servers_left_are_found_paused_and_resumed(engine, poller, site):
    live_feeds.add(engine, site.url, scope="guild:7", poller=poller)
    live_feeds.add(engine, site.url, scope="guild:8", poller=poller)
    live_feeds.add(engine, site.url, scope="operator", poller=poller)
    assert departed_scopes(engine, [8]) == ["guild:7"]  # the operator's feeds belong to no server
    live_feeds.pause_scope(engine, "guild:7")
    assert departed_scopes(engine, [8]) == []
    assert poller.run_once(force=True).feeds_checked == 2
    assert resume_scope(engine, "guild:7") == 1
    assert poller.run_once(force=True).feeds_checked == 3


def test_a_server_left_pauses_its_alerts_and_digests_and_rejoining_resumes_them(engine):
    start = 1_796_198_400.0  # 2026-12-02T08:00:00Z
    left, stays = "guild:7", "guild:8"
    alert = alerts.add(engine, "interest rates", scope=left, channel_id=70, now=start)
    closed = alerts.follow(engine, "interest rates", scope=left, user_id=71, now=start)
    alerts.delivery_failed(engine, closed.target, "DMs closed", stop=True)
    other = alerts.add(engine, "interest rates", scope=stays, channel_id=80, now=start)
    digests.add_schedule(engine, scope=left, channel_id=70, when="daily 09:00 UTC", now=start)
    kept = digests.add_schedule(engine, scope=stays, channel_id=80, when="daily 09:00 UTC", now=start)
    assert departed_scopes(engine, [8]) == [left]  # no feeds there: its alerts and digests count

    counts = pause_server(engine, left)
    assert (counts.feeds, counts.alerts, counts.digests) == (0, 1, 1)
    assert departed_scopes(engine, [8]) == []
    assert alerts.list_alerts(engine, scope=stays)[0] == other  # another server's are untouched
    assert all(a.paused for a in alerts.list_alerts(engine, scope=left))
    assert digests.digest_channels(engine) == {80}
    [run] = digests.claim_due(engine, now=start + 3600)  # only the other server's digest runs
    assert run.schedule.id == kept.id
    engine.ingest_items([ArticleDraft(RATES, "r1", "Rates up", "A Daily", "https://a.example/r1",
                                      "2026-12-02")], scope=left)  # fmt: skip
    alerts.scan(engine, now=start + 3600)
    assert alerts.deliveries(engine, now=start + 3600) == []  # nothing matched for a paused alert

    counts = resume_server(engine, left)
    assert (counts.feeds, counts.alerts, counts.digests) == (0, 1, 1)
    states = {a.id: a.paused for a in alerts.list_alerts(engine, scope=left)}
    assert states == {alert.id: False, closed.id: True}  # closed DMs stay paused for their reason
    assert digests.digest_channels(engine) == {70, 80}
    assert {r.schedule.channel_id for r in digests.claim_due(engine, now=start + 86400 + 3600)} == {70, 80}
    assert not resume_server(engine, left)  # nothing left to resume
    assert digests.pause_scope(engine, left) == 1 and digests.digest_channels(engine) == {80}
    assert digests.resume_scope(engine, left) == 1 and digests.resume_scope(engine, left) == 0


def test_a_bad_scope_is_refused_and_nothing_is_paused(engine):
    alerts.add(engine, "interest rates", scope="guild:7", channel_id=70)
    with pytest.raises(ValueError, match="not a scope"):
        pause_server(engine, "guild:seven")
    with pytest.raises(alerts.AlertError, match="not a scope"):
        alerts.pause_scope(engine, "seven")
    with pytest.raises(digests.DigestError, match="not a scope"):
        digests.pause_scope(engine, "seven")
    assert not any(a.paused for a in alerts.list_alerts(engine))
