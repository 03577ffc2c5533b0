"""Load trial: 200 questions at once through the fake Discord and the real discord.py client.

Discord drops an interaction not acknowledged within 3 s. Every one must be acknowledged in time (by the
fake's own clock: dispatch to first callback), none lost, and each answered or told to retry.
"""

from __future__ import annotations

import asyncio
import re
import threading

from tests.bot.conftest import running_bot
from tests.bot.helpers import EPHEMERAL

QUESTIONS = 200
MEMBERS = 25
DISCORD_DEADLINE = 3.0
RETRY = re.compile(r"try again in \d+ s")
TOPICS = ("jellyfish learning", "Ozempic stomach paralysis", "Trump real estate ruling", "zinc batteries")


def answering(rec):
    return lambda m: m.get("interaction_metadata", {}).get("id") == str(rec.id)


class InFlight:
    """Wraps the engine's search (every question and browse command searches): the most at once."""

    def __init__(self, search):
        self.search, self.now, self.most = search, 0, 0
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self.search(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


async def test_200_questions_at_once_are_all_acknowledged_in_time_and_answered_or_refused(
    fake, hash_news_engine, hash_embedder_slow, monkeypatch
):
    hash_embedder_slow.delay = 0.05  # each answer takes a moment, so slots stay taken while others arrive
    in_flight = InFlight(hash_news_engine.search)
    monkeypatch.setattr(hash_news_engine, "search", in_flight)
    w = fake.world
    members = []
    for n in range(MEMBERS):
        member = w.next_seed_id()
        w.add_user(member, f"reader{n}")
        w.add_member(member, [w.subscriber_role_id])
        members.append(member)
    async with running_bot(fake, hash_news_engine, question_rate=3, max_concurrent_questions=4):
        sent = await asyncio.gather(
            *(
                fake.send_slash_command(
                    "ask" if i % 4 else "search",
                    {"question": f"{TOPICS[i % 4]} {i}"} if i % 4 else {"query": f"{TOPICS[i % 4]} {i}"},
                    user_id=members[i % MEMBERS],
                )
                for i in range(QUESTIONS)
            )
        )
        latencies = await asyncio.gather(*(rec.wait_acknowledged(timeout=60) for rec in sent))
        deferred = [rec for rec in sent if rec.callback_types == [5]]
        for rec in deferred:  # every deferred question gets its answer
            await fake.wait_for_bot_message(predicate=answering(rec), timeout=60)
    assert len(sent) == QUESTIONS and len(latencies) == QUESTIONS
    late = [latency for latency in latencies if latency >= DISCORD_DEADLINE]
    assert not late, f"{len(late)} acknowledged after {DISCORD_DEADLINE} s: {sorted(late)[-5:]}"
    retried = [rec for rec in sent if rec.callback_types == [4]]
    for rec in retried:
        data = rec.callbacks[0]["data"]
        assert data["flags"] & EPHEMERAL and RETRY.search(data["content"]), data
    assert len(deferred) + len(retried) == QUESTIONS  # none lost, none answered twice
    assert deferred and retried
    assert in_flight.most <= 4  # the cap on work at once held for every kind of command
    # Each member's rate holds under load: at most 3 of their questions were taken on.
    taken = [int(rec.payload["member"]["user"]["id"]) for rec in deferred]
    assert max(taken.count(m) for m in members) <= 3
