"""Pure parts of the bot: limits, parsing, settings, errors, and the extensions (feedback storage:
tests/storage/test_feedback.py)."""

from __future__ import annotations

import datetime as dt
import pkgutil
import subprocess
import sys

import discord
import pytest

import bot.cogs
from bot.client import EXTENSIONS, NewsBot, is_admin, payload_hash, read_sync_state, write_sync_state
from bot.cogs.admin import ProgressState
from bot.errors import APOLOGY, NotAdmin, UserFacingError, message_for
from bot.limits import Busy, QuestionLimiter
from bot.parsing import name_choices, parse_since, resolve_article, strip_mentions, title_choices
from bot.settings import BotSettings
from bot.skips import FETCH_FAILED, ingest_summary, member_reason
from index.engine import ReindexBusy
from index.models import IngestReport, Skipped
from tests.bot.conftest import bot_settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_cooldown_per_member_then_released_by_time():
    clock = Clock()
    refusals = []
    limiter = QuestionLimiter(
        rate=2, window=30, max_concurrent=5, clock=clock, on_refused=lambda: refusals.append(1)
    )
    for _ in range(2):
        async with limiter.slot(1):
            pass
    with pytest.raises(Busy) as refused:
        async with limiter.slot(1):
            pass
    assert refused.value.reason == "cooldown" and refused.value.seconds == 30
    assert limiter.active == 0 and refusals == [1]
    limiter.check(2)  # another member is not affected
    clock.now += 30.5
    limiter.check(1)


async def test_global_concurrency_refuses_with_a_wait_estimate():
    clock = Clock()
    limiter = QuestionLimiter(rate=10, window=30, max_concurrent=1, clock=clock)
    async with limiter.slot(1):
        with pytest.raises(Busy) as refused:
            async with limiter.slot(2):
                pass
        assert refused.value.reason == "busy" and refused.value.seconds >= 1
        clock.now += 4
    assert limiter.active == 0
    limiter.check(2)


def test_parse_since():
    today = dt.date(2023, 12, 20)
    assert parse_since(None) is None and parse_since("  ") is None
    assert parse_since("2023-12-01", today) == "2023-12-01"
    assert parse_since("7d", today) == "2023-12-13"
    assert parse_since("2 weeks", today) == "2023-12-06"
    assert parse_since("yesterday", today) == "2023-12-19"
    with pytest.raises(UserFacingError, match="could not read"):
        parse_since("last tuesday-ish", today)


def test_strip_mentions_removes_the_bot_only():
    assert strip_mentions("<@42> what about <@7>?  <@!42>", [42]) == "what about <@7>?"
    assert strip_mentions("<@&9> hi", [42, 9]) == "hi"


def test_title_choices_are_capped_and_short_and_resolve_checks_the_value():
    titles = [(f"id-{i}", f"Story {i} " + "x" * 150) for i in range(40)] + [("j", "Jellyfish learn")]
    choices = title_choices(titles, "")
    assert len(choices) == 25 and all(len(c.name) <= 100 for c in choices)
    assert [c.value for c in title_choices(titles, "jelly")] == ["j"]
    assert [c.value for c in title_choices(titles, "learn")] == ["j"]  # contained, not only prefix
    assert resolve_article(titles, "j") == "j"
    assert resolve_article(titles, "jellyfish LEARN") == "j"
    with pytest.raises(UserFacingError):
        resolve_article(titles, "made up")
    assert [c.value for c in name_choices(["The Verge", "TechCrunch"], "verge")] == ["The Verge"]


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "secret")
    monkeypatch.setenv("NEWSBOT_ADMIN_ROLES", "5678, 1234")
    monkeypatch.setenv("NEWSBOT_ANSWER_CHANNELS", "11,12")
    monkeypatch.setenv("NEWSBOT_DEV_GUILD_ID", "99")
    settings = BotSettings(_env_file=None)
    assert settings.token() == "secret" and "secret" not in repr(settings)
    assert settings.admin_roles == [5678, 1234]
    assert settings.answer_channels == [11, 12] and settings.dev_guild_id == 99


def test_every_setting_is_in_env_example():
    from pathlib import Path

    from index.config import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    names = ["DISCORD_TOKEN"] + [f"NEWSBOT_{n.upper()}" for n in Settings.model_fields]
    names += [f"NEWSBOT_{n.upper()}" for n in BotSettings.model_fields if n != "discord_token"]
    missing = [n for n in names if f"{n}=" not in example]
    assert not missing


def test_known_errors_have_short_messages_and_unknown_ones_none():
    assert "try again in 3 s" in message_for(Busy(2.2, "busy"))
    assert "Manage Server" in message_for(NotAdmin())
    assert "already running" in message_for(ReindexBusy("x"))
    assert message_for(UserFacingError("Pick one.")) == "Pick one."
    wrapped = discord.app_commands.CommandInvokeError.__new__(discord.app_commands.CommandInvokeError)
    wrapped.original = UserFacingError("Inner.")
    assert message_for(wrapped) == "Inner."
    assert message_for(RuntimeError("boom")) is None and "something went wrong" in APOLOGY


class Role:
    def __init__(self, id: int, name: str):
        self.id, self.name = id, name


class Member:
    def __init__(self, *roles: Role):
        self.roles = list(roles)


def test_admin_rights():
    none = discord.Permissions.none()
    assert is_admin(Member(), discord.Permissions(manage_guild=True), [])
    assert is_admin(Member(), discord.Permissions(administrator=True), [])
    assert not is_admin(Member(Role(5, "Editors")), none, [])
    assert is_admin(Member(Role(5, "Editors")), none, [5])
    assert not is_admin(Member(Role(6, "5")), none, [5])  # a role named like an admin role's id


def test_admin_roles_are_ids_and_a_name_is_refused_with_a_hint(monkeypatch):
    """Role names are not unique: a member who may create roles could copy an admin role's name."""
    from pydantic import ValidationError

    monkeypatch.setenv("NEWSBOT_ADMIN_ROLES", "Editors, 1234")
    with pytest.raises(ValidationError, match=r"takes role ids, not names \('Editors'\).*Copy Role ID"):
        BotSettings(_env_file=None)


def test_home_guilds_are_ids_and_a_bad_entry_stops_start_up_naming_it(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("NEWSBOT_HOME_GUILD_IDS", " 111, 222 ")
    assert BotSettings(_env_file=None).home_guild_ids == [111, 222]
    monkeypatch.setenv("NEWSBOT_HOME_GUILD_IDS", "111, My Server")
    with pytest.raises(ValidationError, match=r"takes server ids, not names \('My Server'\).*Copy Server ID"):
        BotSettings(_env_file=None)


def test_viewer_of_a_guild_and_a_dm():
    from types import SimpleNamespace

    from bot.scoping import viewer_of

    assert viewer_of(SimpleNamespace(guild_id=42, guild=None)) == "guild:42"
    assert viewer_of(SimpleNamespace(guild_id=None, guild=None)) == "operator"
    assert viewer_of(SimpleNamespace(guild=SimpleNamespace(id=7))) == "guild:7"  # a message


def test_python_m_bot_with_a_role_name_says_to_use_ids(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root),
           "DISCORD_TOKEN": "x", "NEWSBOT_ADMIN_ROLES": "Editors"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "NEWSBOT_ADMIN_ROLES: takes role ids, not names ('Editors')" in done.stderr


def test_ingest_summary_and_progress_state():
    report = IngestReport(added=2, skipped=[Skipped("https://x", "no article text found")])
    assert ingest_summary(report).splitlines() == [
        "Ingested: 2 added, 0 updated, 0 duplicates, 1 skipped.",
        "• 1 skipped: no article text found — <https://x>",
    ]
    state = ProgressState()
    state("reindex", 3, 10)
    assert state.latest == ("reindex", 3, 10)


NETWORK_REASONS = [
    "connection refused",
    "HTTP 403 Forbidden",
    "timed out after 3 s",
    "could not resolve host name",
    "TLS certificate not trusted (self signed)",
    "network error ([Errno 113] No route to host)",
    "refused: 10.0.0.7 is a private address",
    "redirected to http://[::1]:8080/",
    "feed entry has no text (no content or summary); linked page: connection reset",
]


@pytest.mark.parametrize("reason", NETWORK_REASONS)
def test_members_never_read_network_details_of_a_fetch(reason):
    shown = ingest_summary(IngestReport(skipped=[Skipped("https://example.org/a", reason)]))
    assert member_reason(Skipped("https://example.org/a", reason)) == FETCH_FAILED
    assert FETCH_FAILED in shown and reason not in shown


def test_a_fetch_failure_kind_decides_when_present():
    assert member_reason(Skipped("https://a", "odd words", kind="refused-address")) == FETCH_FAILED
    assert member_reason(Skipped("f.json", "JSON holds a string, not an article object")).startswith("JSON")
    assert (
        member_reason(Skipped("f", "unexpected error while reading (KeyError: 'x')")) == "could not be read"
    )


def test_a_refused_update_does_not_show_members_where_the_stored_copy_came_from():
    from index.ingest import foreign_update
    from index.models import ArticleDraft

    draft = ArticleDraft("text " * 10, "https://blog.example/rss#1", fetched_from="https://blog.example/rss")
    for stored_origin in ("/srv/newsbot/private/exports/age.jsonl:2", "news/articles.jsonl:2"):
        reason = foreign_update(draft, "https://www.theage.com.au/story", stored_origin)
        shown = ingest_summary(IngestReport(skipped=[Skipped("https://blog.example/rss#1", reason)]))
        assert "already stored from another source (not replaced)" in shown
        assert stored_origin not in shown


def test_a_long_skip_list_is_summarised_not_a_wall():
    skipped = [Skipped(f"https://n.example/{i}", "connection refused") for i in range(500)]
    skipped += [Skipped(f"feed.xml#{i}", f"entry {i}: no title or text") for i in range(30)]
    text = ingest_summary(IngestReport(added=1, skipped=skipped))
    lines = text.splitlines()
    assert lines[1] == (
        "• 500 skipped: could not be fetched — <https://n.example/0>, <https://n.example/1>, "
        "<https://n.example/2> and 497 more"
    )
    assert len(lines) <= 10 and len(text) < 2000
    assert lines[-1] == "• 23 skipped for 23 other reasons"


def test_sync_state_round_trip(tmp_path):
    assert read_sync_state(tmp_path) == {}
    write_sync_state(tmp_path / "d", {"global": payload_hash([{"name": "ask"}])})
    assert read_sync_state(tmp_path / "d")["global"] == payload_hash([{"name": "ask"}])
    assert payload_hash([{"a": 1, "b": 2}]) == payload_hash([{"b": 2, "a": 1}])


async def test_every_extension_loads_and_commands_are_unique(engine, tmp_path):
    modules = {f"bot.cogs.{m.name}" for m in pkgutil.iter_modules(bot.cogs.__path__)}
    assert modules == set(EXTENSIONS)
    async with NewsBot(engine=engine, settings=bot_settings(), data_dir=tmp_path) as client:
        for extension in EXTENSIONS:
            await client.load_extension(extension)
        assert set(client.extensions) == set(EXTENSIONS)
        keys = [(c.name, type(c).__name__) for c in client.tree.get_commands()]
        assert len(keys) == len(set(keys))
        for extension in EXTENSIONS:
            await client.unload_extension(extension)
        assert not client.tree.get_commands()


def test_python_m_bot_without_a_token_says_how_to_get_one(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEWSBOT_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "DISCORD_TOKEN" in done.stderr and "discord.com/developers/applications" in done.stderr


async def test_shared_limits_count_a_members_turns_across_engines_on_one_folder(hash_news_engine):
    """Two bot processes' limiters (two engines on one data folder, NEWSBOT_SHARED_LIMITS): turns taken
    through one count in the other; another member and another bucket are not affected."""
    import functools

    from bot import engine_calls
    from index.engine import Engine

    settings = hash_news_engine.settings
    with Engine(settings, embedder=hash_news_engine.embedder) as other_engine:
        limiters = [
            QuestionLimiter(
                rate=2, window=60, max_concurrent=5,
                turns=functools.partial(engine_calls.member_turn, engine, "questions"),
            )
            for engine in (hash_news_engine, other_engine)
        ]  # fmt: skip
        async with limiters[0].slot(7):
            pass
        async with limiters[1].slot(7):
            pass
        for limiter in limiters:
            with pytest.raises(Busy) as refused:
                async with limiter.slot(7):
                    pass
            assert refused.value.reason == "cooldown" and 55 < refused.value.retry_after <= 60
            assert limiter.active == 0
        async with limiters[1].slot(8):  # another member
            pass
        votes = functools.partial(engine_calls.member_turn, other_engine, "votes")
        assert votes(7, 2, 60) is None  # another bucket


def test_a_members_turn_waits_until_their_oldest_leaves_the_window(hash_news_engine):
    from index.storage.member_limits import take_turn

    store = hash_news_engine.store
    assert take_turn(store, "q", 1, now=1000.0, rate=2, window=60) is None
    assert take_turn(store, "q", 1, now=1010.0, rate=2, window=60) is None
    assert take_turn(store, "q", 1, now=1030.0, rate=2, window=60) == 30.0  # the turn at 1000 leaves at 1060
    assert take_turn(store, "q", 1, now=1060.0, rate=2, window=60) is None
    assert take_turn(store, "q", 1, now=1061.0, rate=2, window=60) == 9.0  # (1010 + 60 - 1061)
