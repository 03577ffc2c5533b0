"""Topic alerts (index/live/alerts.py) with the clock in the tests' hands: new stories about a topic are
recorded once per (alert, story), delivered within the hourly cap (the rest deferred, then sent as one
message or left to a digest), only to alerts whose server sees the story, and confirmed posts never again."""

from __future__ import annotations

import pytest

from index.live import alerts
from index.models import ArticleDraft
from tests.helpers.feed_server import text
from tests.live.conftest import START

TOPIC = "interest rates"


def about(seed: int, topic: str = TOPIC) -> str:
    """A story of its own (no other's near-duplicate) that is plainly about `topic`."""
    words = text(seed, 24).rstrip(".").split()
    return (
        f"The central bank raised {topic} again on {words[0]}. {topic.capitalize()} now weigh on {words[1]} "
        f"{words[2]} and {words[3]}. Economists expect {topic} to stay high for {words[4]} {words[5]}. "
        f"Mortgage costs follow {topic} closely, said {words[6]} {words[7]} {words[8]}."
    )


def story(seed: int, body: str | None = None, *, source: str = "A Daily", published: str = "2026-12-02",
          title: str | None = None) -> ArticleDraft:  # fmt: skip
    url = f"https://{source.split()[0].lower()}.example/{seed}"
    return ArticleDraft(
        body=body or about(seed), origin=url, url=url, source=source, published=published,
        title=title or f"Rates story {seed}",
    )  # fmt: skip


def ingest(engine, *drafts, scope="operator"):
    return engine.ingest_items(list(drafts), scope=scope)


def test_a_matching_story_is_delivered_once_with_its_best_sentences_verbatim(engine):
    alert = alerts.add(engine, "Interest  rates", scope="guild:1", channel_id=55, now=START)
    assert alert.topic == "Interest rates" and alert.channel_id == 55
    ingest(engine, story(1), story(2, text(2, 60), title="Club signs striker"))
    assert alerts.scan(engine, now=START) == 1
    assert engine.store.alerts.queued_after(0, 10) == []  # the queue is read up to the mark, then dropped
    [delivery] = alerts.deliveries(engine, per_hour=4, now=START)
    [match] = delivery.matches
    article = engine.article(match.article_id)
    assert (delivery.channel_id, delivery.topic, match.title) == (55, "Interest rates", "Rates story 1")
    assert (
        match.excerpt == article.body[match.start : match.end] and "interest rates" in match.excerpt.lower()
    )
    assert alerts.deliveries(engine, per_hour=4, now=START + 1) == []  # claimed: no second poster gets it
    alerts.mark_sent(engine, delivery, now=START + 2)
    assert alerts.scan(engine, now=START + 3) == 0
    assert alerts.deliveries(engine, per_hour=4, now=START + 2 * alerts.CLAIM_TTL) == []


def test_a_claim_never_confirmed_is_offered_again_later(engine):
    alerts.add(engine, TOPIC, scope="guild:1", channel_id=55, now=START)
    ingest(engine, story(3))
    alerts.scan(engine, now=START)
    [first] = alerts.deliveries(engine, per_hour=4, now=START)
    assert alerts.deliveries(engine, per_hour=4, now=START + alerts.CLAIM_TTL - 1) == []
    [again] = alerts.deliveries(engine, per_hour=4, now=START + alerts.CLAIM_TTL + 1)
    assert again.keys == first.keys


def test_a_story_carried_by_several_feeds_alerts_once(engine):
    alerts.add(engine, TOPIC, scope="operator", channel_id=7, now=START)
    ingest(engine, story(4))
    copy = story(4, about(4) + " Beta Post contributed.", source="Beta Post")
    report = ingest(engine, copy)
    assert report.duplicates == 1  # a near-duplicate copy joins the story
    assert alerts.scan(engine, now=START) == 1
    [delivery] = alerts.deliveries(engine, per_hour=4, now=START)
    assert delivery.matches[0].other_outlets == ("Beta Post",)


def test_old_news_and_unrelated_stories_do_not_alert(engine):
    alerts.add(engine, TOPIC, scope="operator", channel_id=7, now=START)
    ingest(engine, story(5, published="2026-11-20"), story(6, text(6, 60)))
    assert alerts.scan(engine, now=START) == 0


def test_server_b_never_gets_server_a_stories(engine):
    a = alerts.add(engine, TOPIC, scope="guild:1", channel_id=11, now=START)
    b = alerts.add(engine, TOPIC, scope="guild:2", channel_id=22, now=START)
    ingest(engine, story(7), scope="guild:1")
    alerts.scan(engine, now=START)
    assert [d.channel_id for d in alerts.deliveries(engine, per_hour=4, now=START)] == [11]
    ingest(engine, story(8))  # the operator's news: every server sees it
    alerts.scan(engine, now=START)
    delivered = alerts.deliveries(engine, per_hour=4, now=START)
    assert sorted(d.channel_id for d in delivered) == [11, 22]
    assert {d.keys[0][0] for d in delivered} == {a.id, b.id}
    assert [m.title for m in alerts.test(engine, TOPIC, viewer="guild:2")] == ["Rates story 8"]
    assert len(alerts.test(engine, TOPIC, viewer="guild:1")) == 2


def test_past_the_hourly_cap_stories_wait_then_come_as_one_message(engine):
    alerts.add(engine, TOPIC, scope="operator", channel_id=9, now=START)
    ingest(engine, *(story(n) for n in range(10, 15)))
    assert alerts.scan(engine, now=START) == 5
    sent = alerts.deliveries(engine, per_hour=2, now=START)
    assert len(sent) == 2 and not any(d.more for d in sent)
    for delivery in sent:
        alerts.mark_sent(engine, delivery, now=START)
    assert len(alerts.deferred_for(engine, 9)) == 3
    assert alerts.deliveries(engine, per_hour=2, now=START + 1800) == []  # the hour is not over
    [more] = alerts.deliveries(engine, per_hour=2, now=START + 3601)
    assert more.more and len(more.matches) == 3 and more.topic == TOPIC
    alerts.mark_sent(engine, more, now=START + 3601)
    assert alerts.deferred_for(engine, 9) == []
    assert alerts.deliveries(engine, per_hour=2, now=START + 7300) == []


def test_a_channel_with_a_digest_gets_its_deferred_stories_there(engine):
    alerts.add(engine, TOPIC, scope="operator", channel_id=9, now=START)
    ingest(engine, *(story(n) for n in range(20, 23)))
    alerts.scan(engine, now=START)
    for delivery in alerts.deliveries(engine, per_hour=1, now=START):
        alerts.mark_sent(engine, delivery, now=START)
    waiting = alerts.deferred_for(engine, 9)
    assert len(waiting) == 2
    assert alerts.deliveries(engine, per_hour=1, now=START + 3601, digest_channels=[9]) == []
    alerts.mark_delivered(engine, 9, waiting, now=START + 3700)
    assert alerts.deferred_for(engine, 9) == []
    assert alerts.deliveries(engine, per_hour=1, now=START + 7300) == []


def test_a_member_follows_by_dm_and_a_refused_dm_pauses_the_follow(engine):
    follow = alerts.follow(engine, TOPIC, scope="guild:1", user_id=42, now=START)
    assert follow.user_id == 42 and follow.channel_id is None
    ingest(engine, story(30))
    alerts.scan(engine, now=START)
    [delivery] = alerts.deliveries(engine, per_hour=4, now=START)
    assert delivery.user_id == 42
    alerts.mark_unsent(engine, delivery, failed=True)
    assert alerts.delivery_failed(engine, "user:42", "DMs closed", stop=True) == 1
    [paused] = alerts.list_alerts(engine, target="user:42")
    assert paused.paused and paused.last_error == "DMs closed"
    ingest(engine, story(31))
    alerts.scan(engine, now=START)
    assert alerts.deliveries(engine, per_hour=4, now=START + 3601) == []  # not retried, no loop
    with pytest.raises(alerts.AlertError, match="no alert"):
        alerts.remove(engine, follow.id, scope="guild:1", target="user:43")
    resumed = alerts.follow(engine, TOPIC, scope="guild:1", user_id=42, now=START)  # DMs opened again
    assert resumed.id == follow.id and not resumed.paused and resumed.last_error is None
    alerts.remove(engine, follow.id, scope="guild:1", target="user:42")
    assert alerts.list_alerts(engine) == []


@pytest.mark.parametrize(
    ("topic", "error"),
    [
        ("   ", "a topic needs a few words"),
        ("x" * 101, "at most 100 characters"),
        ("one two three four five six seven eight nine", "at most 8 words"),
        ("what is the", "no word that names a subject"),
    ],
)
def test_bad_topics_are_refused_and_nothing_is_added(engine, topic, error):
    with pytest.raises(alerts.AlertError, match=error):
        alerts.add(engine, topic, scope="guild:1", channel_id=1, now=START)
    assert alerts.list_alerts(engine) == []


def test_the_same_topic_twice_and_too_many_topics_are_refused(engine):
    alerts.add(engine, TOPIC, scope="guild:1", channel_id=1, now=START)
    with pytest.raises(alerts.AlertError, match="already followed"):
        alerts.add(engine, "Interest Rates", scope="guild:1", channel_id=1, now=START)
    for n in range(alerts.ALERTS_PER_CHANNEL - 1):
        alerts.add(engine, f"topic number{n}", scope="guild:1", channel_id=1, now=START)
    with pytest.raises(alerts.AlertError, match=f"at most {alerts.ALERTS_PER_CHANNEL} topics"):
        alerts.add(engine, "one more", scope="guild:1", channel_id=1, now=START)
    assert len(alerts.list_alerts(engine, scope="guild:1")) == alerts.ALERTS_PER_CHANNEL
    with pytest.raises(alerts.AlertError, match="no alert"):
        alerts.remove(engine, 1, scope="guild:2")


def test_the_test_rule_is_the_live_rule(engine):
    ingest(engine, story(40), story(41, text(41, 60)), story(42))
    found = alerts.test(engine, TOPIC, viewer=None)
    assert sorted(m.title for m in found) == ["Rates story 40", "Rates story 42"]
    for match in found:
        assert match.excerpt == engine.article(match.article_id).body[match.start : match.end]
    alerts.add(engine, TOPIC, scope="operator", channel_id=3, now=START)
    ingest(engine, story(43), story(44, text(44, 60)))
    alerts.scan(engine, now=START)
    live = {d.matches[0].article_id for d in alerts.deliveries(engine, per_hour=4, now=START)}
    tested = {m.article_id for m in alerts.test(engine, TOPIC, viewer=None, since="2026-12-01")}
    assert live < tested and len(live) == 1  # (the earlier stories came before the alert)


def test_the_cap_is_per_channel_across_its_topics(engine):
    alerts.add(engine, TOPIC, scope="operator", channel_id=9, now=START)
    alerts.add(engine, "mortgage costs", scope="operator", channel_id=9, now=START)
    alerts.add(engine, TOPIC, scope="operator", channel_id=10, now=START)
    both = f"{about(50)} {about(51, 'mortgage costs')}"
    ingest(engine, story(50, both, title="Interest rates and mortgage costs"))  # about both topics
    assert alerts.scan(engine, now=START) == 3
    sent = alerts.deliveries(engine, per_hour=1, now=START)
    assert sorted(d.channel_id for d in sent) == [9, 10]  # one each: channel 9's second waits
    assert len(alerts.deferred_for(engine, 9)) == 1 and alerts.deferred_for(engine, 10) == []
