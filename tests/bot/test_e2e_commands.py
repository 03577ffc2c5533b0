"""End to end: command registration and sync, intents, and the browse and summary commands."""

from __future__ import annotations

import asyncio
import contextlib

from tests.bot.conftest import bot_settings, running_bot
from tests.bot.helpers import EPHEMERAL, assert_no_pings, descriptions

ADMIN = {"reindex", "ingest", "remove", "stats", "sync", "feeds", "alert"}
MANAGE_GUILD = 1 << 5
COMMANDS_PUT = r"/applications/\d+/guilds/\d+/commands"


def walk_options(options, path):
    for opt in options or []:
        yield f"{path} {opt['name']}", opt
        yield from walk_options(opt.get("options"), f"{path} {opt['name']}")


async def test_command_registration_payloads(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        pass
    (put,) = fake.find_requests("PUT", COMMANDS_PUT)
    commands = put.json
    keys = [(c["name"], c.get("type", 1)) for c in commands]
    assert len(keys) == len(set(keys))
    assert {"ask", "summary", "latest", "search", "sources"} | ADMIN <= {c["name"] for c in commands}
    assert ("Ask newsbot", 3) in keys
    for command in commands:
        if command.get("type", 1) != 1:
            continue
        assert command["description"], command["name"]
        for path, option in walk_options(command.get("options"), command["name"]):
            assert option.get("description"), path
        if command["name"] in ADMIN:
            assert int(command["default_member_permissions"]) == MANAGE_GUILD, command["name"]
        else:
            assert command.get("default_member_permissions") is None, command["name"]
    summary = next(c for c in commands if c["name"] == "summary")
    assert {o["name"] for o in summary["options"]} == {"article", "topic", "period"}


async def test_commands_sync_only_when_changed(fake, hash_news_engine, tmp_path):
    async with running_bot(fake, hash_news_engine, data_dir=tmp_path):
        pass
    async with running_bot(fake, hash_news_engine, data_dir=tmp_path):
        pass
    assert len(fake.find_requests("PUT", COMMANDS_PUT)) == 1
    async with running_bot(fake, hash_news_engine, data_dir=tmp_path, sync_commands=True):
        pass
    assert len(fake.find_requests("PUT", COMMANDS_PUT)) == 2


async def test_only_needed_intents_and_mentions_work_without_message_content(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine, message_content=False):
        intents = fake.identify["intents"]
        await fake.send_message(w.general_id, w.member_id, "jellyfish, no mention")
        await fake.send_message(w.general_id, w.member_id, f"<@{w.bot_id}> jellyfish learning")
        reply = await fake.wait_for_bot_message(w.general_id, timeout=30)
    guilds, members, presences, guild_messages, content = 1, 1 << 1, 1 << 8, 1 << 9, 1 << 15
    assert intents & guilds and intents & guild_messages
    assert not intents & (members | presences | content)
    assert reply["embeds"] and len(fake.bot_messages) == 1


async def test_answer_channel_needs_no_mention(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine, answer_channels=[w.news_desk_id]):
        await fake.send_message(w.general_id, w.member_id, "jellyfish elsewhere")
        await fake.send_message(w.news_desk_id, w.member_id, "jellyfish learning")
        reply = await fake.wait_for_bot_message(timeout=30)
    assert int(reply["channel_id"]) == w.news_desk_id
    assert fake.identify["intents"] & (1 << 15)


async def test_sources_latest_and_search(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        sources = await fake.send_slash_command("sources")
        await sources.wait_acknowledged()
        listing = await fake.wait_for_bot_message(timeout=10)
        latest = await fake.send_slash_command("latest", {"count": 3})
        await latest.wait_acknowledged()
        newest = await fake.wait_for_bot_message(timeout=10)
        search = await fake.send_slash_command("search", {"query": "Ozempic stomach paralysis"})
        await search.wait_acknowledged()
        found = await fake.wait_for_bot_message(timeout=10)
    assert "TechCrunch" in descriptions(listing) and "newest 2023-" in descriptions(listing)
    assert descriptions(newest).count("\n") == 2 and "https://" in descriptions(newest)
    assert "Ozempic" in descriptions(found).split("\n")[0]
    assert all(rec.callback_types[0] == 5 for rec in (sources, latest, search))
    assert_no_pings(fake)


async def test_summary_article_autocomplete_and_validation(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        typing = await fake.send_autocomplete("summary article", {"title": ""}, "title")
        await typing.wait_acknowledged()
        everything = typing.autocomplete_choices
        typing = await fake.send_autocomplete("summary article", {"title": "ozempic"}, "title")
        await typing.wait_acknowledged()
        found = typing.autocomplete_choices
        bad = await fake.send_slash_command("summary article", {"title": "not an article"})
        await bad.wait_acknowledged()
        good = await fake.send_slash_command("summary article", {"title": found[0]["value"]})
        await good.wait_acknowledged()
        summary = await fake.wait_for_bot_message(predicate=lambda m: bool(m["embeds"]), timeout=30)
    assert 0 < len(everything) <= 25 and all(len(c["name"]) <= 100 for c in everything)
    assert found[0]["name"].startswith("Ozempic, Wegovy may be linked")
    assert bad.callback_types == [4] and bad.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert good.callback_types[0] == 5 and summary["embeds"]
    assert_no_pings(fake)


async def test_summary_topic_and_period(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        topic = await fake.send_slash_command("summary topic", {"topic": "Ozempic"})
        assert await topic.wait_acknowledged() < 3
        about = await fake.wait_for_bot_message(timeout=30)
        period = await fake.send_slash_command("summary period", {"days": 7})
        assert await period.wait_acknowledged() < 3
        week = await fake.wait_for_bot_message(timeout=30)
    assert topic.callback_types[0] == period.callback_types[0] == 5
    assert about["embeds"][0]["title"] and week["embeds"]
    assert_no_pings(fake)


async def test_entry_point_falls_back_without_the_message_content_intent(fake, hash_news_engine):
    from bot.__main__ import run_bot

    w = fake.world
    fake.hub.allowed_intents &= ~(1 << 15)  # the portal did not grant message content
    settings = bot_settings(discord_token=fake.token, dev_guild_id=w.guild_id)
    runner = asyncio.create_task(run_bot(hash_news_engine.settings, settings, hash_news_engine))
    try:
        for _ in range(500):
            if fake.hub.identifies and not fake.identify["intents"] & (1 << 15):
                break
            await asyncio.sleep(0.02)
        assert not fake.identify["intents"] & (1 << 15)
        await asyncio.sleep(0.3)  # let the guild arrive
        await fake.send_message(w.general_id, w.member_id, f"<@{w.bot_id}>")
        how_to = await fake.wait_for_bot_message(w.general_id, timeout=30)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert "mention me with a question" in how_to["content"]
    assert_no_pings(fake)


async def test_summary_article_length_option(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        typing = await fake.send_autocomplete("summary article", {"title": "ozempic"}, "title")
        await typing.wait_acknowledged()
        title = typing.autocomplete_choices[0]["value"]
        longer = await fake.send_slash_command("summary article", {"title": title, "points": 5})
        await longer.wait_acknowledged()
        summary = await fake.wait_for_bot_message(predicate=lambda m: bool(m["embeds"]), timeout=30)
    description = summary["embeds"][0]["description"]
    assert len([line for line in description.splitlines() if line.startswith("•")]) == 5, description
    assert_no_pings(fake)
