"""New stories offered to channels: once per story per scope, only when the bot confirms it posted,
never the backlog of a feed's first poll, a handful per channel and the rest counted."""

from __future__ import annotations

from index.live import feeds as live_feeds
from index.live import mark_posted, pending_posts
from tests.helpers.feed_server import Entry, Feed
from tests.live.conftest import entries


def test_backlog_is_not_posted_new_stories_are_once_confirmed(engine, poller, site):
    live_feeds.add(engine, site.url, scope="guild:1", channel_id=555, poller=poller)
    assert pending_posts(engine) == []  # the first poll's entries are the backlog
    site.entries.append(entries(40, 1)[0])
    poller.run_once(force=True)
    [offer] = pending_posts(engine)
    assert (offer.channel_id, offer.scope, offer.more) == (555, "guild:1", 0)
    [post] = offer.posts
    article = engine.article(post.story_id)
    assert post.url == site.link(site.entries[-1]) and post.outlet == "Local Gazette"
    assert post.lead == article.body[post.lead_start : post.lead_end]  # verbatim, with its offsets
    assert post.lead.endswith(".") and len(post.lead) < len(article.body)
    assert pending_posts(engine)[0].story_ids == [post.story_id]  # offered again until confirmed
    mark_posted(engine, offer.scope, offer.story_ids, channel_id=555)
    assert pending_posts(engine) == []
    poller.run_once(force=True)
    assert pending_posts(engine) == []


def test_feeds_without_channel_post_nothing(engine, poller, site):
    live_feeds.add(engine, site.url, scope="guild:1", poller=poller)
    site.entries.append(entries(41, 1)[0])
    poller.run_once(force=True)
    assert pending_posts(engine) == []


def test_a_story_carried_by_two_feeds_of_a_server_is_posted_once_naming_the_other(engine, poller, server):
    first = Feed(server, "/a.xml", "Alpha News")
    second = Feed(server, "/b.xml", "Beta Post")
    live_feeds.add(engine, first.url, scope="guild:1", channel_id=1, poller=poller)
    live_feeds.add(engine, second.url, scope="guild:1", channel_id=2, poller=poller)
    story = entries(50, 1)[0]
    first.entries = [story]
    second.entries = [Entry("beta-copy", story.title, story.body + " Beta Post contributed.")]
    poller.run_once(force=True)
    [offer] = pending_posts(engine)
    assert offer.channel_id == 1
    [post] = offer.posts
    assert post.outlet == "Alpha News" and post.other_outlets == ("Beta Post",)


def test_a_handful_per_channel_and_the_rest_counted(engine, poller, site):
    live_feeds.add(engine, site.url, scope="operator", channel_id=9, poller=poller)
    site.entries.extend(entries(60, 8))
    poller.run_once(force=True)
    [offer] = pending_posts(engine, per_channel=5)
    assert len(offer.posts) == 5 and offer.more == 3
    mark_posted(engine, offer.scope, offer.story_ids)
    assert pending_posts(engine) == []


def test_each_server_gets_its_own_post(engine, poller, site):
    live_feeds.add(engine, site.url, scope="guild:1", channel_id=1, poller=poller)
    live_feeds.add(engine, site.url, scope="guild:2", channel_id=2, poller=poller)
    site.entries.append(entries(70, 1)[0])
    poller.run_once(force=True)
    offers = {o.scope: o for o in pending_posts(engine)}
    assert set(offers) == {"guild:1", "guild:2"}
    mark_posted(engine, "guild:1", offers["guild:1"].story_ids)
    assert [o.scope for o in pending_posts(engine)] == ["guild:2"]
