"""End to end: feeds through the fake Discord, served from 127.0.0.1, on a clock the tests move.

An admin adds a feed, a cycle runs, the new story is posted to the channel and a question is answered from
it; one server never sees or removes another's feeds; members are refused every admin command; a server
that removes the bot stops being polled; a channel the bot cannot post to is reported, never hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import render
from bot.client import NewsBot
from index.config import Settings
from index.engine import Engine
from index.live import Poller, schedule
from index.live import feeds as live_feeds
from index.scopes import OPERATOR, guild_scope
from tests.bot.conftest import bot_settings
from tests.bot.helpers import EPHEMERAL, assert_no_pings, assert_within_limits
from tests.fake_discord import ChannelArg, FakeDiscord, Perm, World
from tests.fake_discord.world import GuildSeed, overwrite
from tests.helpers.feed_server import Entry, Feed, text
from tests.helpers.local_http import LocalServer, Response, serve

START = 1_796_198_400.0  # 2026-12-02T08:00:00Z
CHANNEL_MESSAGES = r"/channels/{}/messages"


class Clock:
    def __init__(self, at: float = START) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def live_engine(hash_news_template: Path, tmp_path: Path, hash_embedder_slow) -> Iterator[Engine]:
    """The small hash-embedded store, allowed to fetch from 127.0.0.1 (NEWSBOT_FETCH_ALLOW)."""
    data = tmp_path / "data"
    shutil.copytree(hash_news_template, data)
    settings = Settings(data_dir=data, _env_file=None, fetch_allow="127.0.0.1", fetch_timeout=6.0)
    with Engine(settings, embedder=hash_embedder_slow) as eng:
        yield eng


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


def story(n: int) -> Entry:
    return Entry(f"s{n}", f"Harbour story number {n}", text(n))


@pytest.fixture
def site(server: LocalServer) -> Feed:
    return Feed(server, "/rss.xml", "Local Gazette", [story(n) for n in range(1, 4)])


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def other(world: World) -> GuildSeed:
    return world.add_guild("Sports Desk")


@pytest_asyncio.fixture(loop_scope="function")
async def fake(world: World) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(world=world) as fake:
        yield fake


@contextlib.asynccontextmanager
async def live_bot(fake: FakeDiscord, engine: Engine, clock: Clock, **overrides) -> AsyncIterator[NewsBot]:
    """A NewsBot with global commands (so every guild has them) on the tests' clock."""
    settings = bot_settings(**({"poll": False} | overrides))
    bot = NewsBot(engine=engine, settings=settings, data_dir=engine.settings.data_dir, clock=clock)
    async with fake.run_bot(bot):
        yield bot


async def command(fake: FakeDiscord, name: str, options: dict, *, user_id: int, channel_id: int) -> dict:
    """Run a slash command and return the first message it produced (ephemeral or not)."""
    rec = await fake.send_slash_command(name, options, user_id=user_id, channel_id=channel_id)
    assert await rec.wait_acknowledged() < 3
    if rec.callback_types[0] == 4:  # answered at once (a refusal)
        return rec.callbacks[0]["data"]
    return await fake.wait_for_bot_message(
        predicate=lambda m: m.get("interaction_metadata", {}).get("id") == str(rec.id), timeout=20
    )


def text_of(message: dict) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f["value"] for f in embed.get("fields", [])]
    return "\n".join(parts)


def posts_to(fake: FakeDiscord, channel_id: int) -> list[dict]:
    return [r.json for r in fake.find_requests("POST", CHANNEL_MESSAGES.format(channel_id))]


async def test_admin_adds_a_feed_a_cycle_posts_the_new_story_and_a_question_is_answered_from_it(
    fake, live_engine, clock, site
):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        added = await command(
            fake,
            "feeds add",
            {"url": site.url, "channel": ChannelArg(w.news_desk_id), "interval": "15m"},
            user_id=w.admin_id,
            channel_id=w.general_id,
        )
        assert added["flags"] & EPHEMERAL
        assert "Following" in text_of(added) and "3 articles" in text_of(added)
        assert "every 15 min" in text_of(added) and f"<#{w.news_desk_id}>" in text_of(added)
        [feed] = live_feeds.list(live_engine)  # one server, no home servers set: its admins are operators
        assert feed.scope == OPERATOR and feed.channel_id == w.news_desk_id
        assert not posts_to(fake, w.news_desk_id)  # the feed's backlog is indexed, not posted

        new = story(7)
        site.entries.append(new)
        assert (await bot.live.run_cycle()).feeds_checked == 0  # not due yet
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        report = await bot.live.run_cycle()
        assert report.feeds_checked == 1 and report.new_articles == 1
        posted = await fake.wait_for_bot_message(w.news_desk_id, timeout=10)
        [embed] = posted["embeds"]
        assert embed["title"] == new.title and embed["url"] == site.link(new)
        lead = new.body.split(". ")[0] + "."
        assert embed["description"].startswith(f"> {lead}\n— **")  # the lead sentence, verbatim
        assert_within_limits(posted)

        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        await bot.live.run_cycle()  # the story was marked posted: never offered again
        assert len(posts_to(fake, w.news_desk_id)) == 1

        question = f"What is the latest? {lead}"  # about recent news: the answer says how current it is
        answer = await command(
            fake, "ask", {"question": question}, user_id=w.member_id, channel_id=w.general_id
        )
        sources = await command(fake, "sources", {}, user_id=w.member_id, channel_id=w.general_id)
    assert new.title in text_of(answer)
    [feed] = live_feeds.list(live_engine)
    as_of = f"News as of {render.short_time(feed.last_ok)}"
    assert answer["embeds"][-1]["footer"]["text"].startswith(as_of)
    assert f"Local Gazette]({site.url}) — news as of {render.short_time(feed.last_ok)}" in text_of(sources)
    assert sources["embeds"][-1]["footer"]["text"].startswith(as_of)
    assert_no_pings(fake)


async def test_the_poller_runs_inside_the_bot_and_posts_what_it_finds(fake, live_engine, clock, site):
    w = fake.world
    poller = Poller(live_engine, now=clock)
    live_feeds.add(
        live_engine, site.url, scope=guild_scope(w.guild_id), channel_id=w.news_desk_id, poller=poller
    )
    site.entries.append(story(8))
    clock.advance(schedule.DEFAULT_INTERVAL * 1.11)  # due: the bot's poller thread checks it when it starts
    async with live_bot(fake, live_engine, clock, poll=True) as bot:
        posted = await fake.wait_for_bot_message(w.news_desk_id, timeout=20)
        assert posted["embeds"][0]["title"] == story(8).title
        assert bot.live._thread is not None and bot.live._thread.is_alive()
    assert not bot.live._thread.is_alive()  # stopped with the bot


async def test_a_server_neither_sees_nor_removes_another_servers_feed(fake, live_engine, clock, site, other):
    w = fake.world
    async with live_bot(fake, live_engine, clock):
        await command(fake, "feeds add", {"url": site.url}, user_id=w.admin_id, channel_id=w.general_id)
        [feed] = live_feeds.list(live_engine)
        listed = await command(fake, "feeds list", {}, user_id=other.admin_id, channel_id=other.general_id)
        assert "Local Gazette" not in text_of(listed) and "follows no feed" in text_of(listed)

        typing = await fake.send_autocomplete(
            "feeds remove", {"feed": ""}, "feed", user_id=other.admin_id, channel_id=other.general_id
        )
        await typing.wait_acknowledged()
        assert typing.autocomplete_choices == []
        refused = await command(
            fake, "feeds remove", {"feed": str(feed.id)}, user_id=other.admin_id, channel_id=other.general_id
        )
        assert refused["flags"] & EPHEMERAL and "don't know that feed" in refused["content"]
        assert [f.id for f in live_feeds.list(live_engine)] == [feed.id]

        mine = await command(fake, "feeds list", {}, user_id=w.admin_id, channel_id=w.general_id)
        assert "Local Gazette" in text_of(mine) and "✅ ok" in text_of(mine)
        asked = {"question": story(2).body.split(". ")[0]}
        theirs = await command(fake, "ask", asked, user_id=other.member_id, channel_id=other.general_id)
        assert story(2).title not in text_of(theirs)  # the other server's article is not theirs to read
        ours = await command(fake, "ask", asked, user_id=w.member_id, channel_id=w.general_id)
        assert story(2).title in text_of(ours)
        theirs = await command(fake, "sources", {}, user_id=other.member_id, channel_id=other.general_id)
        assert not any(f["name"] == "Feeds followed" for e in theirs["embeds"] for f in e.get("fields", []))
        assert "Local Gazette" not in text_of(theirs)  # nor its articles' outlet
        ours = await command(fake, "sources", {}, user_id=w.member_id, channel_id=w.general_id)
        assert f"[Local Gazette]({site.url}) — news as of" in text_of(ours)

        typing = await fake.send_autocomplete(
            "feeds remove", {"feed": "gazette"}, "feed", user_id=w.admin_id, channel_id=w.general_id
        )
        await typing.wait_acknowledged()
        [choice] = typing.autocomplete_choices
        assert choice["name"] == f"#{feed.id} Local Gazette"
        removed = await command(
            fake, "feeds remove", {"feed": choice["value"]}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "3 articles only it brought removed" in text_of(removed)
    assert live_feeds.list(live_engine) == [] and live_engine.stats()["articles"] == 20


async def test_a_member_is_refused_every_admin_command_and_nothing_changes(fake, live_engine, clock, site):
    w = fake.world
    attempts = {
        "feeds add": {"url": site.url},
        "feeds list": {},
        "feeds remove": {"feed": "1"},
        "feeds check": {"url": site.url},
        "reindex": {},
        "ingest": {"url": site.url},
        "remove": {"article": "x"},
        "stats": {},
        "sync": {},
    }
    async with live_bot(fake, live_engine, clock):
        for name, options in attempts.items():
            refused = await command(fake, name, options, user_id=w.member_id, channel_id=w.general_id)
            assert refused["flags"] & EPHEMERAL and "Manage Server" in refused["content"], name
        typing = await fake.send_autocomplete("feeds remove", {"feed": ""}, "feed", user_id=w.member_id)
        await typing.wait_acknowledged()
        assert typing.autocomplete_choices == []
    assert live_feeds.list(live_engine) == [] and site.served == 0
    assert live_engine.stats()["articles"] == 20


async def test_a_server_that_removes_the_bot_is_no_longer_polled(fake, live_engine, clock, site, other):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        await command(
            fake, "feeds add", {"url": site.url}, user_id=other.admin_id, channel_id=other.general_id
        )
        [feed] = live_feeds.list(live_engine)
        assert feed.scope == guild_scope(other.id) and site.served == 1
        await fake.remove_bot_from_guild(other.id)
        for _ in range(100):
            if live_feeds.list(live_engine)[0].paused:
                break
            await asyncio.sleep(0.05)
        assert live_feeds.list(live_engine)[0].paused
        clock.advance(schedule.DEFAULT_INTERVAL * 2)
        report = await bot.live.run_cycle(force=True)
        assert report.feeds_checked == 0 and site.served == 1
        await fake.add_bot_to_guild(other.id)  # invited back: polled again
        for _ in range(100):
            if not live_feeds.list(live_engine)[0].paused:
                break
            await asyncio.sleep(0.05)
        assert (await bot.live.run_cycle(force=True)).feeds_checked == 1
    assert w.guild_id in [g for g in fake.world.bot_guilds()]


async def test_on_start_the_feeds_of_servers_the_bot_left_meanwhile_are_paused(
    fake, live_engine, clock, site
):
    gone = guild_scope(123456789)
    live_feeds.add(live_engine, site.url, scope=gone, poller=Poller(live_engine, now=clock))
    async with live_bot(fake, live_engine, clock):
        for _ in range(100):
            if live_feeds.list(live_engine)[0].paused:
                break
            await asyncio.sleep(0.05)
    assert live_feeds.list(live_engine)[0].paused


async def add_with_channel(fake: FakeDiscord, site: Feed, channel_id: int) -> None:
    w = fake.world
    added = await command(
        fake, "feeds add", {"url": site.url, "channel": ChannelArg(channel_id)}, user_id=w.admin_id,
        channel_id=w.general_id,
    )  # fmt: skip
    assert "Following" in text_of(added), text_of(added)


async def test_a_refused_post_is_offered_again_and_posted_once(fake, live_engine, clock, site):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        await add_with_channel(fake, site, w.news_desk_id)
        site.entries.append(story(9))
        fake.fail_next("POST", CHANNEL_MESSAGES.format(w.news_desk_id), status=400)
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        await bot.live.run_cycle()
        assert fake.store.history(w.news_desk_id, limit=10) == []  # Discord did not accept it
        assert await bot.live.post_pending() == 1  # offered again
        assert await bot.live.post_pending() == 0  # and never twice
    [posted] = fake.store.history(w.news_desk_id, limit=10)
    assert posted["embeds"][0]["title"] == story(9).title


async def test_missing_permission_is_reported_without_requests(fake, live_engine, clock, site):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        await add_with_channel(fake, site, w.news_desk_id)
        # The bot loses Send Messages there (its role is denied it) after the feed was added.
        channel = w.channels[w.news_desk_id]
        channel["permission_overwrites"] = [overwrite(w.bot_role_id, deny=Perm.SEND_MESSAGES)]
        await fake.dispatch("CHANNEL_UPDATE", channel)
        await asyncio.sleep(0.1)
        site.entries.append(story(10))
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        await bot.live.run_cycle()
        await bot.live.post_pending()
        assert not posts_to(fake, w.news_desk_id)  # never tried: the cache says it would be refused
        [feed] = live_feeds.list(live_engine)
        assert "missing Send Messages" in feed.last_error
        listed = await command(fake, "feeds list", {}, user_id=w.admin_id, channel_id=w.general_id)
        assert "I need Send Messages" in text_of(listed)
        channel["permission_overwrites"] = []  # fixed: the waiting story goes out
        await fake.dispatch("CHANNEL_UPDATE", channel)
        await asyncio.sleep(0.1)
        assert await bot.live.post_pending() == 1


async def test_a_deleted_channel_detaches_its_feeds(fake, live_engine, clock, site):
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        await add_with_channel(fake, site, w.news_desk_id)
        await fake.delete_channel(w.news_desk_id)
        await asyncio.sleep(0.1)
        site.entries.append(story(11))
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        await bot.live.run_cycle()
        [feed] = live_feeds.list(live_engine)
        assert feed.channel_id is None and "channel was deleted" in feed.last_error
        before = len(fake.requests)
        await bot.live.post_pending()
        assert len(fake.requests) == before  # nothing left to try


async def test_check_previews_a_feed_or_the_one_a_page_advertises_and_adds_nothing(
    fake, live_engine, clock, site, server
):
    w = fake.world
    page = server.route(
        "/news", Response(f'<html><head><link rel="alternate" type="application/rss+xml" href="{site.url}">'
                          "</head><body><p>News</p></body></html>".encode())
    )  # fmt: skip
    bare = server.route("/about", Response(b"<html><body><p>About us</p></body></html>"))
    async with live_bot(fake, live_engine, clock):
        preview = await command(
            fake, "feeds check", {"url": page}, user_id=w.admin_id, channel_id=w.general_id
        )
        shown = text_of(preview)
        assert "Local Gazette" in shown and f"<{site.url}>" in shown and story(1).title in shown
        refused = await command(
            fake, "feeds check", {"url": bare}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "No feed found" in text_of(refused)
        assert refused["flags"] & EPHEMERAL
    assert live_feeds.list(live_engine) == []


async def test_operator_feeds_need_an_operator(fake, live_engine, clock, site, other):
    w = fake.world
    async with live_bot(fake, live_engine, clock):
        refused = await command(
            fake, "feeds add", {"url": site.url, "everyone": True}, user_id=other.admin_id,
            channel_id=other.general_id,
        )  # fmt: skip
        assert "Only the bot's operators" in text_of(refused)
        assert live_feeds.list(live_engine) == []
        added = await command(  # the application's owner is an operator
            fake,
            "feeds add",
            {"url": site.url, "everyone": True},
            user_id=w.owner_id,
            channel_id=w.general_id,
        )
        assert "for every server" in text_of(added)
        listed = await command(fake, "feeds list", {}, user_id=other.admin_id, channel_id=other.general_id)
        assert "Local Gazette" in text_of(listed) and "everyone" in text_of(listed)
        [feed] = live_feeds.list(live_engine)
        refused = await command(
            fake, "feeds remove", {"feed": str(feed.id)}, user_id=other.admin_id, channel_id=other.general_id
        )
        assert "only operators remove it" in text_of(refused)
    assert len(live_feeds.list(live_engine)) == 1


def test_failing_feed_errors_are_member_safe():
    from bot.cogs.feeds import safe_reason

    refused = "cannot fetch http://10.0.0.1/x: address 10.0.0.1 is not allowed"
    assert safe_reason(refused, operator=False) == "the feed could not be fetched"
    assert safe_reason(refused, operator=True) == refused
    assert safe_reason("HTTP 500", operator=False) == "the feed could not be fetched"
    assert safe_reason("connection refused", operator=False) == "the feed could not be fetched"
    no_feed = (
        "no feed found at http://127.0.0.1:8080/about: the page is not RSS or Atom and advertises no feed"
    )
    assert safe_reason(no_feed, operator=False) == no_feed  # the address is the admin's own


async def test_slow_feed_does_not_block_the_event_loop(fake, live_engine, clock, site):
    """A feed answering slowly is checked in the poller's threads: the bot keeps answering meanwhile."""
    w = fake.world
    async with live_bot(fake, live_engine, clock) as bot:
        await add_with_channel(fake, site, w.news_desk_id)
        site.fail = Response(b"", status=200, delay=4.0)
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        requested = len(site.server.requests)
        cycle = asyncio.create_task(bot.live.run_cycle())
        for _ in range(500):  # until the cycle is waiting for the slow feed
            if len(site.server.requests) > requested:
                break
            await asyncio.sleep(0.01)
        rec = await fake.send_slash_command("sources", {}, user_id=w.member_id)
        await rec.wait_acknowledged()
        await fake.wait_for_bot_message(w.general_id, timeout=10)
        assert not cycle.done()  # answered while the cycle was still waiting for the feed
        report = await cycle
    assert report.errors and report.feeds_checked == 1


async def test_bad_input_is_refused_with_a_reason_and_changes_nothing(fake, live_engine, clock, site):
    w = fake.world
    async with live_bot(fake, live_engine, clock):
        for options, reason in (
            ({"url": site.url, "interval": "2m"}, "at most every 5 minutes"),
            ({"url": site.url, "interval": "often"}, "like 15m, 1h"),
            ({"url": "ftp://example.org/feed"}, "http(s) URL"),
        ):
            said = await command(fake, "feeds add", options, user_id=w.admin_id, channel_id=w.general_id)
            assert said["flags"] & EPHEMERAL and reason in text_of(said), text_of(said)
        await add_with_channel(fake, site, w.news_desk_id)
        again = await command(
            fake, "feeds add", {"url": site.url}, user_id=w.admin_id, channel_id=w.general_id
        )
        assert "already followed" in text_of(again)
    assert len(live_feeds.list(live_engine)) == 1 and site.served == 2


async def test_a_crash_after_discord_accepted_a_post_does_not_post_it_twice(
    fake, live_engine, clock, site, monkeypatch
):
    """The process dies after Discord accepted a story but before it was marked: offered again, the
    message carries the same nonce and Discord (enforce_nonce) hands back the one it already made."""
    import bot.live

    w = fake.world
    real = bot.live.mark_posted

    def crash(*args, **kwargs):
        raise RuntimeError("killed before the story was marked posted")

    async with live_bot(fake, live_engine, clock) as running:
        await add_with_channel(fake, site, w.news_desk_id)
        site.entries.append(story(12))
        clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
        monkeypatch.setattr(bot.live, "mark_posted", crash)
        with pytest.raises(RuntimeError):
            await running.live.run_cycle()
        monkeypatch.setattr(bot.live, "mark_posted", real)
        assert await running.live.post_pending() == 1  # offered again, and "sent" again
        assert await running.live.post_pending() == 0  # now marked
    first, second = posts_to(fake, w.news_desk_id)
    assert first["nonce"] == second["nonce"] and first["enforce_nonce"]
    [posted] = fake.store.history(w.news_desk_id, limit=10)  # one message in the channel
    assert posted["embeds"][0]["title"] == story(12).title


async def test_a_bot_polls_and_posts_only_while_it_holds_the_leases(fake, live_engine, clock, site):
    """Another process (a `newsbot watch`, another bot) holds both leases: this bot neither polls nor
    posts; once they are released it takes them at its next try, polls and posts, and releases them
    when it closes."""
    from index.coordination import POLL, POST, SqliteLease

    w = fake.world
    poller = Poller(live_engine, now=clock)
    live_feeds.add(
        live_engine, site.url, scope=guild_scope(w.guild_id), channel_id=w.news_desk_id, poller=poller
    )
    site.entries.append(story(9))
    clock.advance(schedule.DEFAULT_INTERVAL * 1.11)  # due
    db = live_engine.settings.db_path
    rivals = [SqliteLease(db, name, holder="elsewhere:1:x") for name in (POLL, POST)]
    assert all(rival.acquire() for rival in rivals)
    served = site.served
    async with live_bot(fake, live_engine, clock, poll=True) as bot:
        await asyncio.sleep(2)  # (its poller thread would have checked the due feed by now)
        assert site.served == served and not bot.live.holds(POLL) and not bot.live.holds(POST)
        await bot.live.run_cycle()  # an admin's cycle runs (like `newsbot poll --once`), posting waits
        assert site.served == served + 1 and not posts_to(fake, w.news_desk_id)
        for rival in rivals:
            rival.close()
        for keeper in bot.live.keepers.values():
            await asyncio.to_thread(keeper.step)  # its next try
        assert bot.live.holds(POLL) and bot.live.holds(POST)
        posted = await fake.wait_for_bot_message(w.news_desk_id, timeout=20)
        assert posted["embeds"][0]["title"] == story(9).title
    assert SqliteLease(db, POLL).holder() is None  # released on close


async def test_metrics_scraped_over_http_after_a_question_and_a_poll(fake, live_engine, clock, site):
    """The bot's process, scraped on 127.0.0.1 as Prometheus would: the question answered through
    Discord, its latency, the poll's ingest counts and feed lag, and this process holding the leases."""
    import httpx

    from index.metrics import serve
    from tests.test_metrics import samples

    w = fake.world
    poller = Poller(live_engine, now=clock)
    live_feeds.add(
        live_engine, site.url, scope=guild_scope(w.guild_id), channel_id=w.news_desk_id, poller=poller
    )
    site.entries.append(story(11))
    clock.advance(schedule.DEFAULT_INTERVAL * 1.11)
    async with live_bot(fake, live_engine, clock) as bot:
        report = await bot.live.run_cycle()
        lead = story(11).body.split(". ")[0] + "."
        await command(fake, "ask", {"question": lead}, user_id=w.member_id, channel_id=w.general_id)
        with serve(live_engine.metrics, "127.0.0.1", 0, live_engine._health) as (host, port):
            async with httpx.AsyncClient(trust_env=False) as client:
                reply = await client.get(f"http://{host}:{port}/metrics", timeout=10)
                health = await client.get(f"http://{host}:{port}/healthz", timeout=10)
        me = bot.live.keepers["post"].lease.holder_id
    got = samples(reply.text)
    assert report.new_articles == 1 and health.status_code == 200
    assert got[("newsbot_questions_total", (("outcome", "answered"),))] == 1
    assert got[("newsbot_answer_seconds_count", ())] == 1
    assert got[("newsbot_ingest_articles_total", (("result", "added"),))] >= 4  # the backlog, then story 11
    [feed] = live_feeds.list(live_engine)
    assert ("newsbot_poll_lag_seconds", (("feed", str(feed.id)), ("url", site.url))) in got
    assert got[("newsbot_lease_held", (("lease", "post"), ("process", me)))] == 1
    assert got[("newsbot_lease_holder", (("holder", me), ("lease", "post")))] == 1
