"""End to end: admin commands are refused for members and run for admins; reindex never blocks questions."""

from __future__ import annotations

import asyncio
import threading

from tests.bot.conftest import running_bot
from tests.bot.helpers import EPHEMERAL, assert_no_pings
from tests.fake_discord import payloads

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"


async def test_reindex_refused_for_a_member_and_nothing_changes(fake, hash_news_engine):
    built = hash_news_engine.stats()["index_built_at"]
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("reindex", {"full": True}, user_id=fake.world.member_id)
        await rec.wait_acknowledged()
        await asyncio.sleep(0.2)
    assert rec.callback_types == [4]
    assert rec.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert "Manage Server" in rec.callbacks[0]["data"]["content"]
    assert not fake.find_requests("PATCH", ORIGINAL)
    assert hash_news_engine.stats()["index_built_at"] == built


def gate_reindex(monkeypatch, engine) -> threading.Event:
    """Hold the reindex (inside the engine's lock, after its first progress report) until released."""
    release = threading.Event()
    real = engine.reindex

    def reindex(*, full=False, progress):
        def held(stage, done, total):
            progress(stage, done, total)
            assert release.wait(30), "the test never released the reindex"

        return real(full=full, progress=held)

    monkeypatch.setattr(engine, "reindex", reindex)
    return release


async def test_reindex_runs_for_an_admin_while_questions_are_answered(fake, hash_news_engine, monkeypatch):
    w = fake.world
    release = gate_reindex(monkeypatch, hash_news_engine)
    async with running_bot(fake, hash_news_engine) as bot:
        reindex = await fake.send_slash_command("reindex", {"full": True}, user_id=w.admin_id)
        assert await reindex.wait_acknowledged() < 3
        assert reindex.callback_types == [5]
        while not bot.engine.reindexing:
            await asyncio.sleep(0.01)

        ask = await fake.send_slash_command("ask", {"question": "Ozempic stomach"}, user_id=w.member_id)
        assert await ask.wait_acknowledged() < 3
        answer = await fake.wait_for_bot_message(
            predicate=lambda m: m.get("interaction_metadata", {}).get("id") == str(ask.id), timeout=20
        )
        assert bot.engine.reindexing, "the question was answered only after the reindex"

        second = await fake.send_slash_command("reindex", {}, user_id=w.admin_id)
        await second.wait_acknowledged()
        assert "already running" in second.callbacks[0]["data"]["content"]
        await fake.wait_for_request(  # progress shown by editing the reply
            "PATCH", ORIGINAL, predicate=lambda r: "running" in (r.json or {}).get("content", ""), timeout=10
        )
        release.set()
        await fake.wait_for_request(
            "PATCH",
            ORIGINAL,
            predicate=lambda r: "Reindex done" in (r.json or {}).get("content", ""),
            timeout=30,
        )
    assert answer["embeds"]
    assert not hash_news_engine.reindexing
    progress = [r.json["content"] for r in fake.find_requests("PATCH", ORIGINAL)]
    assert progress[0] == "Full reindex started…" and "Reindex done" in progress[-1]
    assert_no_pings(fake)


async def test_admin_role_from_settings_is_accepted(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine, admin_roles=[w.subscriber_role_id]):
        rec = await fake.send_slash_command("stats", {}, user_id=w.member_id)
        await rec.wait_acknowledged()
        stats = await fake.wait_for_bot_message(timeout=10)
    assert rec.callback_types == [5]
    text = stats["embeds"][0]["description"]
    assert "**Articles** 20" in text and "hash-embedder" in text and "Answer latency" in text


async def test_ingest_an_attached_file_and_remove_an_article(fake, hash_news_engine):
    w = fake.world
    article = b"---\ntitle: Jellyfish parade\nsource: Test Wire\ndate: 2023-12-30\n---\n" + (
        b"A parade of jellyfish filled the harbour on Saturday, surprising fishermen and tourists alike. " * 5
    )
    async with running_bot(fake, hash_news_engine):
        attachment = fake.store.attach(w.general_id, "parade.md", article, "text/markdown")
        data = payloads.command_data(
            w,
            "ingest",
            [{"name": "file", "type": 11, "value": attachment["id"]}],
            command_id=int(fake.registered_commands(w.guild_id)[0]["id"]),
            command_guild_id=w.guild_id,
        )
        data["id"] = next(c["id"] for c in fake.registered_commands(w.guild_id) if c["name"] == "ingest")
        data["resolved"] = {"attachments": {attachment["id"]: attachment}}
        rec = await fake.send_interaction(payloads.APPLICATION_COMMAND, data, user_id=w.admin_id)
        assert await rec.wait_acknowledged() < 3
        report = await fake.wait_for_bot_message(timeout=20)
        assert "1 added" in report["content"], report["content"]

        typing = await fake.send_autocomplete(
            "remove", {"article": "jellyfish par"}, "article", user_id=w.admin_id
        )
        await typing.wait_acknowledged()
        choices = typing.autocomplete_choices
        assert choices and choices[0]["name"] == "Jellyfish parade"
        rec = await fake.send_slash_command("remove", {"article": choices[0]["value"]}, user_id=w.admin_id)
        await rec.wait_acknowledged()
        removed = await fake.wait_for_bot_message(timeout=10)
    assert "Removed “Jellyfish parade”" in removed["content"]
    assert hash_news_engine.article(choices[0]["value"]) is None
    assert_no_pings(fake)


async def test_remove_refuses_an_unknown_article(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command(
            "remove", {"article": "no such thing"}, user_id=fake.world.admin_id
        )
        await rec.wait_acknowledged()
    assert rec.callback_types == [4] and rec.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert "pick a title" in rec.callbacks[0]["data"]["content"]
    assert hash_news_engine.stats()["articles"] == 20
