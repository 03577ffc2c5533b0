"""End to end: topic alerts through the fake Discord, with the live-news tests' local feed server and clock.

An admin adds an alert, a poll cycle brings a matching and a non-matching story: exactly one alert is
posted, as one embed quoting the matching sentences verbatim, never again at the next cycle; a member who
follows the topic gets it by DM; a member is refused /alert add; /alert test shows what would match.
"""

from __future__ import annotations

from index.live import alerts, schedule
from index.live import feeds as live_feeds
from index.scopes import guild_scope
from tests.bot import test_e2e_feeds as feeds_e2e
from tests.bot.helpers import EPHEMERAL, assert_no_pings, assert_within_limits
from tests.bot.test_e2e_feeds import command, live_bot, posts_to, story, text_of
from tests.fake_discord import ChannelArg
from tests.helpers.feed_server import Entry
from tests.live.test_alerts import about

TOPIC = "interest rates"
# The live-news tests' fixtures: their local feed server, clock, engine and fake Discord.
clock, fake, live_engine, no_proxies = (
    feeds_e2e.clock,
    feeds_e2e.fake,
    feeds_e2e.live_engine,
    feeds_e2e.no_proxies,
)
other, server, site, world = feeds_e2e.other, feeds_e2e.server, feeds_e2e.site, feeds_e2e.world


def rates_story(n: int) -> Entry:
    return Entry(f"rates{n}", f"Rates story {n}", f"{about(n)} {about(n + 1000)}")


async def test_an_admins_alert_posts_the_one_matching_story_of_a_cycle_once(fake, live_engine, clock, site):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        live_feeds.add(live_engine, site.url, scope=guild_scope(w.guild_id), poller=bot.live.poller)
        added = await command(
            fake, "alert add", {"topic": TOPIC, "channel": ChannelArg(w.news_desk_id)},
            user_id=w.admin_id, channel_id=w.general_id,
        )  # fmt: skip
        assert added["flags"] & EPHEMERAL and f"<#{w.news_desk_id}>" in text_of(added)
        followed = await command(
            fake, "follow", {"topic": TOPIC}, user_id=w.member_id, channel_id=w.general_id
        )
        assert followed["flags"] & EPHEMERAL and "DM you" in text_of(followed)

        matching = rates_story(1)
        site.entries += [matching, story(9)]  # one about the topic, one not
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        report = await bot.live.run_cycle()
        assert report.new_articles == 2
        posted = await fake.wait_for_bot_message(w.news_desk_id, timeout=10)
        [embed] = posted["embeds"]
        assert embed["title"] == matching.title and embed["url"] == site.link(matching)
        assert TOPIC in posted["content"]
        quote = embed["description"].split("\n— ")[0]
        excerpt = "\n".join(line[2:] for line in quote.splitlines())
        assert excerpt in matching.body and TOPIC in excerpt.lower()  # verbatim
        assert "Local Gazette" in embed["description"]
        assert_within_limits(posted)
        dms = [c for c in w.dm_channels.values() if c["recipients"][0]["id"] == str(w.member_id)]
        [dm] = dms
        [dm_post] = posts_to(fake, int(dm["id"]))
        assert dm_post["embeds"][0]["title"] == matching.title

        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        await bot.live.run_cycle()
        assert len(posts_to(fake, w.news_desk_id)) == 1 and len(posts_to(fake, int(dm["id"]))) == 1

        tested = await command(
            fake, "alert test", {"topic": TOPIC}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "1 story since" in tested["content"] and tested["embeds"][0]["title"] == matching.title
        listed = await command(fake, "alert list", {}, user_id=w.admin_id, channel_id=w.general_id)
        assert TOPIC in text_of(listed) and "Members follow 1 topic" in text_of(listed)
    assert_no_pings(fake)


async def test_a_member_is_refused_alert_commands_and_another_server_sees_none(
    fake, live_engine, clock, other
):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        payloads = {c["name"]: c for c in bot.command_payloads()}
        for name in ("alert", "follow", "unfollow"):  # a follow is of a server's news: never in DMs
            assert payloads[name].get("contexts") == [0] or payloads[name].get("dm_permission") is False, name
        for name, options in {"alert add": {"topic": TOPIC}, "alert list": {}, "alert test": {"topic": TOPIC},
                              "alert remove": {"alert": "1"}}.items():  # fmt: skip
            refused = await command(fake, name, options, user_id=w.member_id, channel_id=w.general_id)
            assert refused["flags"] & EPHEMERAL and "Manage Server" in refused["content"], name
        assert alerts.list_alerts(live_engine) == []
        await command(fake, "alert add", {"topic": TOPIC}, user_id=w.admin_id, channel_id=w.general_id)
        [alert] = alerts.list_alerts(live_engine)
        theirs = await command(fake, "alert list", {}, user_id=other.admin_id, channel_id=other.general_id)
        assert TOPIC not in text_of(theirs)
        refused = await command(
            fake,
            "alert remove",
            {"alert": str(alert.id)},
            user_id=other.admin_id,
            channel_id=other.general_id,
        )
        assert "No alert" in refused["content"] and alerts.list_alerts(live_engine) == [alert]
        bad = await command(
            fake, "alert add", {"topic": "the of and"}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "names a subject" in bad["content"] and len(alerts.list_alerts(live_engine)) == 1
