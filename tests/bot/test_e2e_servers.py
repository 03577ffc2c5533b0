"""End to end: news per server. A bot in three servers (the home server of its operators, and servers
A and B): each server sees the operator's news and its own, never another's; a server's admins remove
only what their server brought; operators alone run operations on everything."""

from __future__ import annotations

from index.models import ArticleDraft
from index.scopes import guild_scope
from tests.bot.conftest import running_bot
from tests.bot.helpers import EPHEMERAL, assert_no_pings, descriptions
from tests.fake_discord import payloads

FLOOD = (
    "Heavy rain flooded the Quillmoor valley overnight and hundreds of homes were evacuated. "
    "Rescue teams used boats to reach villages cut off by the water. "
    "The weather service warned that more storms would follow this week. "
    "Farmers said the harvest in the lowlands was lost."
)
PARADE = b"---\ntitle: Jellyfish parade\nsource: Riverside Gazette\ndate: 2023-12-30\n---\n" + (
    b"A parade of jellyfish filled the Quillmoor harbour on Saturday, surprising fishermen and tourists. " * 5
)


def of(rec):
    """The bot's messages answering interaction `rec`."""
    return lambda m: m.get("interaction_metadata", {}).get("id") == str(rec.id)


async def command(fake, name, options, *, user_id, channel_id, timeout=20.0):
    rec = await fake.send_slash_command(name, options, user_id=user_id, channel_id=channel_id)
    await rec.wait_acknowledged()
    if rec.callback_types == [4]:  # refused at once
        return rec, rec.callbacks[0]["data"]
    return rec, await fake.wait_for_bot_message(predicate=of(rec), timeout=timeout)


async def ingest_file(fake, guild, data: bytes):
    w = fake.world
    attachment = fake.store.attach(guild.channel_id, "parade.md", data, "text/markdown")
    body = payloads.command_data(
        w,
        "ingest",
        [{"name": "file", "type": 11, "value": attachment["id"]}],
        command_id=int(next(c["id"] for c in fake.registered_commands(w.guild_id) if c["name"] == "ingest")),
        command_guild_id=w.guild_id,
    )
    body["resolved"] = {"attachments": {attachment["id"]: attachment}}
    rec = await fake.send_interaction(
        payloads.APPLICATION_COMMAND, body, user_id=guild.admin_id, channel_id=guild.channel_id
    )
    await rec.wait_acknowledged()
    return await fake.wait_for_bot_message(predicate=of(rec), timeout=20)


async def test_each_server_sees_its_own_news_and_removes_only_its_own(fake, hash_news_engine):
    w = fake.world
    a, b = w.add_guild("Hillside"), w.add_guild("Riverside")
    (flood,) = hash_news_engine.ingest_items(
        [ArticleDraft(body=FLOOD, origin="test", url="https://hill.example/flood", source="Hillside Herald")],
        scope=guild_scope(a.guild_id),
    ).stored
    async with running_bot(fake, hash_news_engine, home_guild_ids=[w.guild_id]):
        # Server B's admin adds a file: B's own news (B is not a home server).
        report = await ingest_file(fake, b, PARADE)
        assert "1 added" in report["content"], report["content"]
        (parade_id,) = [i for i, t in hash_news_engine.claimed(guild_scope(b.guild_id))]

        query = {"query": "Quillmoor flood homes evacuated harbour jellyfish"}
        _, in_a = await command(fake, "search", query, user_id=a.member_id, channel_id=a.channel_id)
        _, in_b = await command(fake, "search", query, user_id=b.member_id, channel_id=b.channel_id)
        _, home = await command(fake, "search", query, user_id=w.member_id, channel_id=w.general_id)
        dm = w.dm_channel_for(b.member_id, w.next_seed_id())
        _, in_dm = await command(fake, "search", query, user_id=b.member_id, channel_id=int(dm["id"]))
        _, outlets_b = await command(fake, "sources", {}, user_id=b.member_id, channel_id=b.channel_id)

        # B's admins can neither pick nor remove A's article, and are offered only B's own.
        typing = await fake.send_autocomplete(
            "remove", {"article": ""}, "article", user_id=b.admin_id, channel_id=b.channel_id
        )
        await typing.wait_acknowledged()
        offered_b = typing.autocomplete_choices
        refused, said = await command(
            fake, "remove", {"article": flood.article_id}, user_id=b.admin_id, channel_id=b.channel_id
        )
        assert refused.callback_types == [4] and said["flags"] & EPHEMERAL
        assert hash_news_engine.article(flood.article_id) is not None
        # ... nor the operator's news.
        operators = hash_news_engine.articles(viewer="operator")[0]
        _, not_theirs = await command(
            fake, "remove", {"article": operators.id}, user_id=b.admin_id, channel_id=b.channel_id
        )
        # A's admin removes A's article.
        _, removed = await command(
            fake, "remove", {"article": flood.article_id}, user_id=a.admin_id, channel_id=a.channel_id
        )
    assert "Hillside Herald" in descriptions(in_a) and "Riverside Gazette" not in descriptions(in_a)
    assert "Riverside Gazette" in descriptions(in_b) and "Hillside Herald" not in descriptions(in_b)
    for other in (home, in_dm):
        assert "Hillside Herald" not in descriptions(other) and "Riverside Gazette" not in descriptions(other)
    assert "Riverside Gazette" in descriptions(outlets_b) and "Hillside" not in descriptions(outlets_b)
    assert [c["value"] for c in offered_b] == [parade_id]
    assert "I don't know that article" in said["content"]
    assert "operator's news" in not_theirs["content"] and hash_news_engine.article(operators.id)
    assert "Removed" in removed["content"] and hash_news_engine.article(flood.article_id) is None
    assert_no_pings(fake)


async def test_operators_alone_reindex_and_members_are_refused_admin_commands(fake, hash_news_engine):
    w = fake.world
    b = w.add_guild("Riverside")
    async with running_bot(fake, hash_news_engine, home_guild_ids=[w.guild_id]):
        _, by_b_admin = await command(fake, "reindex", {}, user_id=b.admin_id, channel_id=b.channel_id)
        refusals = []
        for name, options in (
            ("reindex", {}),
            ("ingest", {"url": "https://example.com/x"}),
            ("remove", {"article": "x"}),
            ("stats", {}),
            ("sync", {}),
        ):
            rec, said = await command(fake, name, options, user_id=b.member_id, channel_id=b.channel_id)
            refusals.append((rec.callback_types, said["content"]))
        rec = await fake.send_slash_command("reindex", {}, user_id=w.admin_id, channel_id=w.general_id)
        await rec.wait_acknowledged()
        await fake.wait_for_request(
            "PATCH",
            r"/webhooks/\d+/[^/]+/messages/@original",
            predicate=lambda r: "Reindex done" in (r.json or {}).get("content", ""),
            timeout=30,
        )
    assert "operators" in by_b_admin["content"] and by_b_admin["flags"] & EPHEMERAL
    assert all(types == [4] and "Manage Server" in text for types, text in refusals), refusals
    assert rec.callback_types == [5]
    assert hash_news_engine.stats()["index_built_at"] is not None
    assert_no_pings(fake)


async def test_a_home_server_admins_ingest_adds_the_operators_news(fake, hash_news_engine):
    w = fake.world

    class Home:  # the home server, shaped like a further guild for `ingest_file`
        channel_id, admin_id = w.general_id, w.admin_id

    async with running_bot(fake, hash_news_engine):  # one server, no setting: its admins are operators
        report = await ingest_file(fake, Home, PARADE)
    assert "1 added" in report["content"]
    (article,) = hash_news_engine.articles(sources=["Riverside Gazette"])
    assert hash_news_engine.store.claims_of(article.id) == [("operator", "manual")]
