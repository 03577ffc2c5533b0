"""End to end: scheduled digests through the fake Discord, feeds served from 127.0.0.1, on the tests' clock.

An admin schedules a digest; members may not; when the clock passes its time one digest is posted in
that channel (the server's news and the operator's, ranked by outlets, within Discord's limits, no
pings), never twice, and none in another server, whose own news it does not show."""

from __future__ import annotations

from index.live import digests as live_digests
from index.scopes import guild_scope
from tests.bot import test_e2e_feeds as feeds_e2e
from tests.bot.helpers import EPHEMERAL, assert_no_pings, assert_within_limits
from tests.bot.test_e2e_feeds import command, live_bot, posts_to, text_of
from tests.fake_discord import ChannelArg
from tests.helpers.feed_server import Entry, Feed, text

# The live-news tests' fixtures: the hash-embedded store, the clock, the feed server, the fake Discord.
clock, fake, live_engine = feeds_e2e.clock, feeds_e2e.fake, feeds_e2e.live_engine
no_proxies, other, server, world = feeds_e2e.no_proxies, feeds_e2e.other, feeds_e2e.server, feeds_e2e.world

HOUR = 3600.0
PARIS_10 = "daily 10:00 Europe/Paris"
OURS = ["Tram line opens to the airport", "Library wins a design prize", "Bakery strike ends"]
THEIRS = ["Derby ends in a late draw", "Coach signs a new contract"]


def entries(titles: list[str], seed: int) -> list[Entry]:
    return [Entry(f"e{seed + i}", title, text(seed + i)) for i, title in enumerate(titles)]


async def test_an_admin_schedules_a_digest_and_it_is_posted_once_in_that_channel_only(
    fake, live_engine, clock, server, other
):
    w = fake.world
    gazette = Feed(server, "/gazette.xml", "Local Gazette", entries(OURS, 100))
    sports = Feed(server, "/sports.xml", "Sports Wire", entries(THEIRS, 200))
    async with live_bot(fake, live_engine, clock) as bot:
        followed = ((gazette, w.admin_id, w.general_id), (sports, other.admin_id, other.general_id))
        for feed, admin, channel in followed:
            await command(fake, "feeds add", {"url": feed.url}, user_id=admin, channel_id=channel)
        refused = await command(
            fake, "digest schedule", {"when": PARIS_10, "channel": ChannelArg(w.news_desk_id)},
            user_id=w.member_id, channel_id=w.general_id,
        )  # fmt: skip
        assert refused["flags"] & EPHEMERAL and "Manage Server" in refused["content"]
        bad = await command(
            fake, "digest schedule", {"when": PARIS_10 + "s", "channel": ChannelArg(w.news_desk_id)},
            user_id=w.admin_id, channel_id=w.general_id,
        )  # fmt: skip
        assert (
            'unknown time zone "Europe/Pariss"' in text_of(bad) and live_digests.schedules(live_engine) == []
        )

        made = await command(
            fake, "digest schedule", {"when": PARIS_10, "channel": ChannelArg(w.news_desk_id)},
            user_id=w.admin_id, channel_id=w.general_id,
        )  # fmt: skip
        assert made["flags"] & EPHEMERAL
        assert f"daily 10:00 Europe/Paris → <#{w.news_desk_id}> · next 2026-12-02 10:00 CET" in text_of(made)
        await command(
            fake, "digest schedule", {"when": "daily 20:00 UTC", "channel": ChannelArg(other.general_id)},
            user_id=other.admin_id, channel_id=other.general_id,
        )  # fmt: skip
        listed = await command(fake, "digest list", {}, user_id=w.member_id, channel_id=w.general_id)
        assert "daily 10:00 Europe/Paris" in text_of(listed) and "20:00" not in text_of(listed)
        ours = live_digests.schedules(live_engine, guild_scope(w.guild_id))[0].id
        refused = await command(
            fake, "digest remove", {"schedule": ours}, user_id=w.member_id, channel_id=w.general_id
        )
        assert "Manage Server" in refused["content"]
        theirs = await command(
            fake, "digest remove", {"schedule": ours}, user_id=other.admin_id, channel_id=other.general_id
        )
        assert f"no digest schedule #{ours}" in text_of(theirs)
        assert len(live_digests.schedules(live_engine)) == 2

        assert await bot.live.digests.run_due() == 0  # 08:00 UTC: not yet
        assert not posts_to(fake, w.news_desk_id)
        clock.advance(HOUR + 60)  # 10:01 in Paris
        await bot.live.digests.run_due()
        first = await fake.wait_for_bot_message(w.news_desk_id, timeout=20)
        await bot.live.digests.run_due()  # claimed once: never posted again
        clock.advance(60)
        await bot.live.digests.run_due()
        assert not posts_to(fake, other.general_id)  # the other server's digest is not due
        removed = await command(
            fake, "digest remove", {"schedule": ours}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "no longer posts" in text_of(removed)
        clock.advance(24 * HOUR)  # past the other server's 20:00 UTC; ours was removed
        assert await bot.live.digests.run_due() == 1
    posted = posts_to(fake, w.news_desk_id)
    everything = "\n".join(text_of(m) for m in posted)
    assert first["embeds"][0]["title"] == "Daily news digest"
    header = first["embeds"][0]["description"].splitlines()[0]
    assert header == "*2026-12-01 10:00 CET to 2026-12-02 10:00 CET* · 3 stories from 1 outlet"
    assert all(title in everything for title in OURS)
    assert not any(title in everything for title in THEIRS)  # another server's own news
    assert len(posted) == 1  # one digest (it fits one message), never twice, none once removed
    [their_post] = posts_to(fake, other.general_id)
    assert all(t in text_of(their_post) for t in THEIRS) and not any(t in text_of(their_post) for t in OURS)
    for message in [*posted, their_post]:
        assert_within_limits(message)
    assert_no_pings(fake)
    assert live_digests.runs(live_engine, ours) == []  # removed with its schedule


async def test_nothing_new_posts_nothing_or_one_line(fake, live_engine, clock):
    w = fake.world
    live_digests.add_schedule(
        live_engine, scope=guild_scope(w.guild_id), channel_id=w.news_desk_id, when="daily 09:00 UTC",
        now=clock(),
    )  # fmt: skip
    async with live_bot(fake, live_engine, clock, digest_empty="line") as bot:
        clock.advance(HOUR)
        assert await bot.live.digests.run_due() == 1
        clock.advance(24 * HOUR)
        assert await bot.live.digests.run_due() == 1
    lines = [m["content"] for m in posts_to(fake, w.news_desk_id)]
    assert lines == [
        "No new stories since 2026-12-01 09:00 UTC.",
        "No new stories since 2026-12-02 09:00 UTC.",
    ]
    async with live_bot(fake, live_engine, clock) as bot:  # skip (the default): nothing is posted
        clock.advance(24 * HOUR)
        assert await bot.live.digests.run_due() == 0
    assert len(posts_to(fake, w.news_desk_id)) == 2


async def test_digest_now_is_a_preview_only_the_asker_sees(fake, live_engine, clock, server):
    w = fake.world
    gazette = Feed(server, "/gazette.xml", "Local Gazette", entries(OURS, 100))
    async with live_bot(fake, live_engine, clock):
        await command(fake, "feeds add", {"url": gazette.url}, user_id=w.admin_id, channel_id=w.general_id)
        preview = await command(fake, "digest now", {}, user_id=w.member_id, channel_id=w.general_id)
    assert preview["flags"] & EPHEMERAL
    assert "3 stories from 1 outlet" in text_of(preview) and OURS[0] in text_of(preview)
    assert live_digests.schedules(live_engine) == []


async def test_a_run_missed_while_the_bot_was_down_is_posted_once_on_start(fake, live_engine, clock, server):
    w = fake.world
    gazette = Feed(server, "/gazette.xml", "Local Gazette", entries(OURS, 100))
    async with live_bot(fake, live_engine, clock):
        await command(fake, "feeds add", {"url": gazette.url}, user_id=w.admin_id, channel_id=w.general_id)
    live_digests.add_schedule(
        live_engine,
        scope=guild_scope(w.guild_id),
        channel_id=w.news_desk_id,
        when="daily 06:00 UTC",
        now=clock() - 3 * 24 * HOUR,
    )  # fmt: skip  (made three days ago: three due times passed while the bot was down)
    async with live_bot(fake, live_engine, clock):  # the poster looks once on start
        posted = await fake.wait_for_bot_message(w.news_desk_id, timeout=20)
    async with live_bot(fake, live_engine, clock) as bot:  # started again: nothing more
        assert await bot.live.digests.run_due() == 0
    assert len(posts_to(fake, w.news_desk_id)) == 1
    assert posted["embeds"][0]["description"].startswith("*2026-12-01 06:00 UTC to 2026-12-02 06:00 UTC*")
    [schedule] = live_digests.schedules(live_engine)
    [run] = live_digests.runs(live_engine, schedule.id)  # only the latest missed one
    assert run["status"] == "delivered"
