"""End to end: every member command shares the question limiter; admin work has its own threads and rights;
what members read about an ingest is summarised and free of network details."""

from __future__ import annotations

import json
import re
import threading

import pytest

from bot.views import DOWN_ID, MORE_ID, UP_ID
from tests.bot.conftest import HASH_ARTICLES, running_bot
from tests.bot.helpers import EPHEMERAL
from tests.conftest import bundled_articles
from tests.fake_discord import payloads
from tests.helpers.local_http import Response, serve

RETRY = re.compile(r"try again in \d+ s")


def refused(rec) -> bool:
    """Answered at once with an ephemeral "try again" (no defer, nothing run)."""
    first = rec.callbacks[0]
    return (
        first["type"] == 4
        and bool(first["data"]["flags"] & EPHEMERAL)
        and bool(RETRY.search(first["data"]["content"]))
    )


def answering(rec):
    return lambda m: m.get("interaction_metadata", {}).get("id") == str(rec.id)


async def test_browse_commands_share_the_members_rate_limit(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine, question_rate=1):
        first = await fake.send_slash_command("search", {"query": "jellyfish"}, user_id=w.member_id)
        await first.wait_acknowledged()
        later = []
        for name, options in (("latest", {}), ("sources", {}), ("search", {"query": "Ozempic"})):
            rec = await fake.send_slash_command(name, options, user_id=w.member_id)
            await rec.wait_acknowledged()
            later.append(rec)
        other = await fake.send_slash_command("sources", {}, user_id=w.admin_id)  # another member: fine
        await other.wait_acknowledged()
        for rec in (first, other):
            await fake.wait_for_bot_message(predicate=answering(rec), timeout=20)
    assert first.callback_types == [5] and other.callback_types == [5]
    assert all(refused(rec) for rec in later), [rec.callbacks for rec in later]


async def test_buttons_share_the_members_rate_limits(fake, hash_news_engine):
    """ "More sources" is a search, limited like a question; votes have a bucket of their own."""
    w = fake.world
    async with running_bot(fake, hash_news_engine, question_rate=1, vote_rate=1):
        rec = await fake.send_slash_command("ask", {"question": "jellyfish learning"}, user_id=w.member_id)
        await rec.wait_acknowledged()
        answer = await fake.wait_for_bot_message(timeout=30)
        clicks = []
        for button in (MORE_ID, UP_ID, DOWN_ID):
            click = await fake.click_component(int(answer["id"]), button, user_id=w.member_id)
            await click.wait_acknowledged()
            clicks.append(click)
        await fake.wait_for_bot_message(
            predicate=lambda m: "Thanks for the feedback" in m["content"], timeout=20
        )
    more, up, down = clicks
    assert refused(more) and refused(down), [c.callbacks for c in clicks]
    assert not refused(up), up.callbacks
    assert hash_news_engine.store.db.execute("SELECT vote FROM feedback").fetchall() == [(1,)]


async def test_remove_autocomplete_offers_titles_to_admins_only(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        member = await fake.send_autocomplete("remove", {"article": ""}, "article", user_id=w.member_id)
        admin = await fake.send_autocomplete("remove", {"article": ""}, "article", user_id=w.admin_id)
        await member.wait_acknowledged()
        await admin.wait_acknowledged()
    assert member.autocomplete_choices == []
    assert len(admin.autocomplete_choices) == 20


async def send_ingest_file(fake, name: str, data: bytes, mime: str):
    w = fake.world
    attachment = fake.store.attach(w.general_id, name, data, mime)
    commands = fake.registered_commands(w.guild_id)
    data_ = payloads.command_data(
        w,
        "ingest",
        [{"name": "file", "type": 11, "value": attachment["id"]}],
        command_id=int(next(c["id"] for c in commands if c["name"] == "ingest")),
        command_guild_id=w.guild_id,
    )
    data_["resolved"] = {"attachments": {attachment["id"]: attachment}}
    return await fake.send_interaction(payloads.APPLICATION_COMMAND, data_, user_id=w.admin_id)


async def test_ingest_runs_in_the_admin_pool_not_the_answering_threads(fake, hash_news_engine, monkeypatch):
    threads = []
    real = hash_news_engine.ingest

    def ingest(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(hash_news_engine, "ingest", ingest)
    article = b"Title: Harbour jellyfish\n\n" + b"Jellyfish filled the harbour on Saturday morning. " * 5
    async with running_bot(fake, hash_news_engine):
        rec = await send_ingest_file(fake, "harbour.txt", article, "text/plain")
        await rec.wait_acknowledged()
        report = await fake.wait_for_bot_message(timeout=20)
    assert "1 added" in report["content"]
    assert threads and all(name.startswith("newsbot-admin") for name in threads), threads


@pytest.fixture
def no_proxies(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


async def test_ingest_reply_hides_network_details_and_summarises_skips(
    fake, hash_news_engine, no_proxies, monkeypatch
):
    """A feed whose entries' links all fail: members read counts and "could not be fetched", never the
    status codes, refusals or addresses (which would map the bot's network)."""
    allowed = hash_news_engine.settings.model_copy(update={"fetch_allow": "127.0.0.1"})
    monkeypatch.setattr(hash_news_engine, "settings", allowed)
    with serve() as server:
        server.route("/secret", Response(b"no", status=403))
        entries = "".join(
            f"<item><title>Story {i}</title><link>{server.url(f'/secret?{i}')}</link></item>"
            for i in range(40)
        )
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}</channel></rss>'
        server.route("/teasers.rss", Response(feed.encode(), content_type="application/rss+xml"))
        async with running_bot(fake, hash_news_engine):
            rec = await send_ingest_url(fake, server.url("/teasers.rss"))
            await rec.wait_acknowledged()
            report = await fake.wait_for_bot_message(timeout=60)
    text = report["content"]
    assert "40 skipped" in text and "could not be fetched" in text, text
    assert "403" not in text and "Forbidden" not in text and "refused" not in text.lower()
    assert len(text.splitlines()) <= 4, text  # one line per kind of failure, not one per entry


async def send_ingest_url(fake, url: str):
    w = fake.world
    commands = fake.registered_commands(w.guild_id)
    data_ = payloads.command_data(
        w,
        "ingest",
        [{"name": "url", "type": 3, "value": url}],
        command_id=int(next(c["id"] for c in commands if c["name"] == "ingest")),
        command_guild_id=w.guild_id,
    )
    return await fake.send_interaction(payloads.APPLICATION_COMMAND, data_, user_id=w.admin_id)


async def test_ingest_many_articles_in_one_json_lines_upload(fake, hash_news_engine):
    """A bulk JSON Lines upload is read record by record; a bad line is named by the file's own name."""
    lines = [json.dumps(record) for record in bundled_articles()[HASH_ARTICLES : HASH_ARTICLES + 30]]
    lines[10] = "{not json"
    async with running_bot(fake, hash_news_engine):
        rec = await send_ingest_file(fake, "bulk.jsonl", "\n".join(lines).encode(), "application/jsonl")
        await rec.wait_acknowledged()
        report = await fake.wait_for_bot_message(timeout=60)
    text = report["content"]
    assert re.search(r"2\d added", text) and "1 skipped" in text, text
    assert "<bulk.jsonl:11>" in text and "line 11: not valid JSON" in text and "/tmp" not in text
