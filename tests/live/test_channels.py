"""What the bot reports back: a channel it cannot post to, servers it left or rejoined."""

from __future__ import annotations

from index.live import feeds as live_feeds
from index.live import pending_posts
from index.live.channels import departed_scopes, post_failed, resume_scope
from tests.live.conftest import entries


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
