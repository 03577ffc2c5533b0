"""End to end: questions by mention, reply and `/ask`, via the real discord.py client and a fake Discord."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot import engine_calls, render
from bot.views import DOWN_ID, MORE_ID, UP_ID
from index.models import Answer, Citation, Point
from tests.bot.conftest import running_bot
from tests.bot.helpers import EPHEMERAL, assert_no_pings, assert_within_limits, descriptions, field_values
from tests.conftest import bundled_articles

MARKERS = re.compile(r"\s*(\[\d+[a-z]?\])+\s*$")  # [1], or [1a] [1b] for excerpts of one article


@pytest.fixture
def answer_calls(monkeypatch) -> list:
    """(question, keyword arguments) of every question the bot answers, still answered for real."""
    calls = []
    real = engine_calls.answer_question

    def spy(engine, question, **kwargs):
        calls.append((question, kwargs))
        return real(engine, question, **kwargs)

    monkeypatch.setattr(engine_calls, "answer_question", spy)
    return calls


@pytest.mark.model
async def test_mention_is_answered_with_cited_verbatim_excerpts(fake, news_engine, tmp_path):
    w = fake.world
    bodies = [r["body"] for r in bundled_articles()]
    async with running_bot(fake, news_engine, data_dir=tmp_path):
        asked = await fake.send_message(
            w.general_id, w.member_id, f"<@{w.bot_id}> What can jellyfish learn without brains?"
        )
        reply = await fake.wait_for_bot_message(w.general_id, timeout=90)
    assert reply["message_reference"]["message_id"] == asked["id"]
    text = descriptions(reply)
    assert re.search(r"\[1a?\]", text)
    for line in text.splitlines():  # every quoted sentence is verbatim from an article
        sentence = MARKERS.sub("", line).strip()
        if sentence:
            assert any(sentence in body for body in bodies), sentence
    sources = "\n".join(field_values(reply))
    assert "jellyfish" in sources.lower() and "](http" in sources  # a linked title
    assert "articles held" in reply["embeds"][-1]["footer"]["text"]
    assert {b["custom_id"] for row in reply["components"] for b in row["components"]} == {
        MORE_ID,
        UP_ID,
        DOWN_ID,
    }
    assert assert_no_pings(fake) >= 1


async def test_slash_ask_is_deferred_within_3s_then_followed_up(fake, hash_news_engine, hash_embedder_slow):
    hash_embedder_slow.delay = 0.3  # answering takes a while: the bot must defer first
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("ask", {"question": "jellyfish learning without brains"})
        assert await rec.wait_acknowledged() < 3
        assert rec.callback_types[0] == 5  # deferred ("thinking")
        answer = await fake.wait_for_bot_message(fake.world.general_id, timeout=30)
    assert answer["embeds"] and answer["interaction_metadata"]["id"] == str(rec.id)
    assert fake.find_requests("POST", r"/webhooks/\d+/[^/]+", None) or fake.find_requests(
        "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", None
    )
    assert_no_pings(fake)


async def test_private_ask_is_ephemeral(fake, hash_news_engine):
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("ask", {"question": "jellyfish", "private": True})
        await rec.wait_acknowledged()
        await fake.wait_for_bot_message(timeout=30)
    assert rec.callbacks[0]["type"] == 5 and rec.callbacks[0]["data"]["flags"] & EPHEMERAL


async def test_reply_to_an_answer_is_a_follow_up_with_history(fake, hash_news_engine, answer_calls):
    calls = answer_calls
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        await fake.send_message(w.general_id, w.member_id, f"<@{w.bot_id}> jellyfish learning")
        first = await fake.wait_for_bot_message(w.general_id, timeout=30)
        # A reply without a mention (the member turned the reply ping off) still reaches the bot.
        await fake.send_message(
            w.general_id, w.member_id, "and what about sea anemones?", reference=int(first["id"])
        )
        second = await fake.wait_for_bot_message(w.general_id, timeout=30)
    assert second["message_reference"]["message_id"] != first["id"]
    question, kwargs = calls[-1]
    assert question == "and what about sea anemones?"
    assert [t.role for t in kwargs["history"]] == ["user", "bot"]
    assert kwargs["history"][0].text == "jellyfish learning"
    assert_no_pings(fake)


async def test_message_context_menu_answers_about_the_message(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        target = await fake.send_message(w.general_id, w.owner_id, "Did the jellyfish really learn?")
        rec = await fake.send_message_command("Ask newsbot", int(target["id"]))
        assert await rec.wait_acknowledged() < 3
        answer = await fake.wait_for_bot_message(w.general_id, timeout=30)
    assert answer["embeds"]
    assert_no_pings(fake)


def huge_answer(question: str) -> Answer:
    sentence = (
        "Officials said the @everyone <@123> figures were revised again after the audit, officials said. "
    )
    points = tuple(Point(text=sentence * (4 + i % 5), citations=(i % 40 + 1,)) for i in range(60))
    citations = tuple(
        Citation(
            n=n,
            article_id=f"art-{n}",
            title=f"A fairly long headline number {n} about the revised figures and the audit " * 2,
            source="The Outlet",
            url=f"https://example.com/news/{n}",
            published="2023-12-01",
            excerpt=sentence,
            start=0,
            end=len(sentence),
        )
        for n in range(1, 41)
    )
    text = "\n".join(f"{p.text}[{p.citations[0]}]" for p in points)
    return Answer(question=question, text=text, abstained=False, points=points, citations=citations)


async def test_long_answer_is_split_within_limits(fake, hash_news_engine, monkeypatch):
    info = render.IndexInfo(20, "2023-12-26T10:00:00+00:00")
    expected = huge_answer("what about the audit?")
    monkeypatch.setattr(engine_calls, "answer_question", lambda engine, question, **kw: (expected, info))
    count = len(render.answer_messages(expected, info))
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("ask", {"question": "what about the audit?"})
        await rec.wait_acknowledged()
        messages = [await fake.wait_for_bot_message(timeout=10) for _ in range(count)]
    assert count > 1
    for message in messages:
        assert_within_limits(message)
    assert "".join(descriptions(m) for m in messages) == expected.text  # nothing lost, nothing cut
    sources = "\n".join(v for m in messages for v in field_values(m))
    assert all(f"https://example.com/news/{c.n})" in sources for c in expected.citations)
    assert messages[-1]["components"]  # the buttons sit under the last part only
    assert not any(m["components"] for m in messages[:-1])
    assert_no_pings(fake)


async def test_unknown_error_gets_an_apology_and_the_bot_keeps_running(fake, hash_news_engine, monkeypatch):
    real = engine_calls.answer_question

    def broken(engine, question, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine_calls, "answer_question", broken)
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("ask", {"question": "jellyfish"})
        await rec.wait_acknowledged()
        apology = await fake.wait_for_bot_message(timeout=10)
        await fake.send_message(w.general_id, w.member_id, f"<@{w.bot_id}> jellyfish")
        apology_reply = await fake.wait_for_bot_message(w.general_id, timeout=10)
        monkeypatch.setattr(engine_calls, "answer_question", real)
        rec = await fake.send_slash_command("ask", {"question": "jellyfish"})
        answer = await fake.wait_for_bot_message(timeout=30)
    assert "something went wrong" in apology["content"]
    assert "something went wrong" in apology_reply["content"]
    assert answer["embeds"]


async def test_busy_and_cooldown_refuse_instead_of_queueing(fake, hash_news_engine, hash_embedder_slow):
    hash_embedder_slow.delay = 1.0
    w = fake.world
    async with running_bot(fake, hash_news_engine, max_concurrent_questions=1, question_rate=1) as bot:
        first = await fake.send_slash_command("ask", {"question": "jellyfish"}, user_id=w.member_id)
        await first.wait_acknowledged()
        busy = await fake.send_slash_command("ask", {"question": "jellyfish"}, user_id=w.admin_id)
        await busy.wait_acknowledged()
        await fake.wait_for_bot_message(timeout=30)
        again = await fake.send_slash_command("ask", {"question": "jellyfish"}, user_id=w.member_id)
        await again.wait_acknowledged()
        # The first answer's follow-up finishes (its last part sent, the answer remembered) before the
        # bot closes: closing under it would cut its request (a race of the test, not of the bot).
        for _ in range(300):
            if bot.answers._items:
                break
            await asyncio.sleep(0.05)
        assert bot.answers._items
    assert busy.callbacks[0]["type"] == 4 and busy.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert re.search(r"busy.*try again in \d+ s", busy.callbacks[0]["data"]["content"])
    assert re.search(r"try again in \d+ s", again.callbacks[0]["data"]["content"])


async def answer_then_vote_up_and_down(fake):
    """/ask, then the member clicks 👍 and 👎 on the answer: the answer message and both clicks."""
    rec = await fake.send_slash_command("ask", {"question": "jellyfish learning"})
    await rec.wait_acknowledged()
    answer = await fake.wait_for_bot_message(timeout=30)
    clicks = []
    for button in (UP_ID, DOWN_ID):
        click = await fake.click_component(int(answer["id"]), button, user_id=fake.world.member_id)
        await click.wait_acknowledged()
        clicks.append(click)
    return answer, *clicks


async def test_a_members_last_click_is_the_vote_kept_when_an_earlier_write_is_slower(
    fake, hash_news_engine, monkeypatch
):
    """👍 then 👎 at once: the 👍 reaches SQLite late (a busy writer), yet the 👎 clicked after it stays."""
    import time

    record = engine_calls.record_vote

    def slow_up(engine, *, vote, **kwargs):
        if vote == 1:
            time.sleep(0.5)
        record(engine, vote=vote, **kwargs)

    monkeypatch.setattr(engine_calls, "record_vote", slow_up)
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        _, up, down = await answer_then_vote_up_and_down(fake)
        for _ in range(500):  # both thanked: both votes went through the bot
            if not (up.loading or down.loading):
                break
            await asyncio.sleep(0.01)
        assert not (up.loading or down.loading)
    rows = hash_news_engine.store.db.execute("SELECT user_id, vote FROM feedback").fetchall()
    assert rows == [(str(w.member_id), -1)]


async def test_buttons_record_feedback_and_show_more_sources(fake, hash_news_engine):
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        answer, _, _ = await answer_then_vote_up_and_down(fake)
        more = await fake.click_component(int(answer["id"]), MORE_ID, user_id=w.member_id)
        await more.wait_acknowledged()
        extra = await fake.wait_for_bot_message(predicate=lambda m: bool(m["embeds"]), timeout=30)
    rows = hash_news_engine.store.db.execute("SELECT user_id, question, vote FROM feedback").fetchall()
    assert rows == [(str(w.member_id), "jellyfish learning", -1)]
    assert more.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert extra["embeds"][0]["title"] == "More sources"
    assert_no_pings(fake)


async def test_more_sources_still_works_after_a_restart(fake, hash_news_engine):
    w = fake.world

    async def more_sources(message_id: int) -> dict:
        click = await fake.click_component(message_id, MORE_ID, user_id=w.member_id)
        await click.wait_acknowledged()
        return await fake.wait_for_bot_message(
            predicate=lambda m: m.get("interaction_metadata", {}).get("id") == str(click.id), timeout=30
        )

    async with running_bot(fake, hash_news_engine):
        rec = await fake.send_slash_command("ask", {"question": "Ozempic stomach paralysis"})
        await rec.wait_acknowledged()
        answer = await fake.wait_for_bot_message(timeout=30)
        before = await more_sources(int(answer["id"]))
    async with running_bot(fake, hash_news_engine):  # a new process starts with nothing in memory
        after = await more_sources(int(answer["id"]))
    assert before["embeds"][0]["title"] == "More sources"
    assert after["embeds"] == before["embeds"]  # same question, filters and already-cited articles


async def test_thread_follow_up_uses_the_threads_earlier_turns(fake, hash_news_engine, answer_calls):
    calls = answer_calls
    w = fake.world
    async with running_bot(fake, hash_news_engine):
        await fake.send_message(w.thread_id, w.member_id, f"<@{w.bot_id}> Ozempic stomach paralysis")
        await fake.wait_for_bot_message(w.thread_id, timeout=30)
        await fake.send_message(w.thread_id, w.member_id, f"<@{w.bot_id}> what about Wegovy?")
        await fake.wait_for_bot_message(w.thread_id, timeout=30)
    question, kwargs = calls[-1]
    assert question == "what about Wegovy?"
    first = kwargs["history"][0]
    assert (first.role, first.text) == ("user", "Ozempic stomach paralysis")
    assert kwargs["history"][1].role == "bot"


async def test_direct_message_needs_no_mention(fake, hash_news_engine):
    w = fake.world
    dm = w.dm_channel_for(w.member_id, w.next_seed_id())
    async with running_bot(fake, hash_news_engine):
        await fake.send_message(int(dm["id"]), w.member_id, "Ozempic stomach paralysis")
        reply = await fake.wait_for_bot_message(int(dm["id"]), timeout=30)
    assert reply["embeds"]
