"""Several bot processes share the shards: `newsbot run --shards 0-3 --shard-count 8` (or NEWSBOT_SHARDS,
NEWSBOT_SHARD_COUNT). The ranges are parsed with clear errors; the bot connects only its shards to
the fake Discord, whose gateway routes each server's events to shard (guild_id >> 22) % count."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.client import NewsBot
from bot.settings import parse_shards
from index import cli
from tests.bot.conftest import bot_settings, running_bot


@pytest.mark.parametrize(
    ("text", "shards"),
    [("0-3", [0, 1, 2, 3]), ("0-3,6", [0, 1, 2, 3, 6]), (" 5 ", [5]), ("2,1,2", [1, 2]), ("", None)],
)
def test_shard_ranges_parse(text, shards):
    assert parse_shards(text) == shards


@pytest.mark.parametrize(
    ("text", "problem"),
    [("3-1", "empty range"), ("a", "not a shard id"), ("1-", "not a shard id"), ("-2", "not a shard id")],
)
def test_bad_shard_ranges_are_named(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_shards(text)


def test_shards_need_a_count_that_holds_them():
    assert bot_settings(shards="0-3", shard_count=8).shards == [0, 1, 2, 3]
    with pytest.raises(ValidationError, match="needs NEWSBOT_SHARD_COUNT"):
        bot_settings(shards="0-3")
    with pytest.raises(ValidationError, match="names shard 8, but there are 8 shards"):
        bot_settings(shards="6-8", shard_count=8)


def test_the_client_runs_only_its_shards(hash_news_engine):
    settings = bot_settings(shards="4-7", shard_count=8)
    bot = NewsBot(engine=hash_news_engine, settings=settings, data_dir=hash_news_engine.settings.data_dir)
    assert bot.shard_ids == [4, 5, 6, 7] and bot.shard_count == 8
    whole = NewsBot(
        engine=hash_news_engine, settings=bot_settings(), data_dir=hash_news_engine.settings.data_dir
    )
    assert whole.shard_ids is None  # every shard, in this one process


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--shards", "3-1", "--shard-count", "8"], "empty range"),
        (["--shards", "0-9", "--shard-count", "8"], "names shard 8"),
        (["--shards", "0-3"], "needs NEWSBOT_SHARD_COUNT"),
    ],
)
def test_newsbot_run_refuses_bad_shards_before_connecting(tmp_path, monkeypatch, args, problem):
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-token")
    monkeypatch.chdir(tmp_path)  # (no .env)
    result = CliRunner().invoke(cli.app, ["run", *args, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2 and problem in result.output
    assert not (tmp_path / "data").exists()  # nothing opened


async def test_a_process_sees_the_servers_of_its_shards_only(fake, hash_news_engine):
    guild_shard = (fake.world.guild_id >> 22) % 2
    async with running_bot(fake, hash_news_engine, shards=str(guild_shard), shard_count=2) as bot:
        assert bot.shard_ids == [guild_shard] and bot.get_guild(fake.world.guild_id) is not None
    async with running_bot(fake, hash_news_engine, shards=str(1 - guild_shard), shard_count=2) as bot:
        assert bot.shard_ids == [1 - guild_shard] and bot.get_guild(fake.world.guild_id) is None
