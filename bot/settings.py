"""The bot's own settings (the engine's are `index.config.Settings`), read from the environment and `.env`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def parse_shards(text: str) -> list[int] | None:
    """Shard ids from ranges and ids, comma-separated ("0-3", "0-3,6"): sorted, each once; None when
    empty. ValueError naming the part that is not one."""
    shards: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
            raise ValueError(f"'{part}' is not a shard id or a range of them (like 0-3)")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"'{part}' is an empty range: write the lower shard first ({high}-{low})")
        shards.update(range(low, high + 1))
    return sorted(shards) or None


def _split(value: object) -> object:
    """Comma-separated lists ("Editors, 1234") as well as real lists."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "NEWSBOT_DISCORD_TOKEN"),
        description="The bot token from the Discord developer portal (Bot → Reset Token).",
    )
    dev_guild_id: int | None = Field(
        None, description="A server id whose commands sync instantly (development); global sync otherwise."
    )
    admin_roles: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Role ids (not names: any member who may create a role can copy a name), "
        "comma-separated, allowed to use admin commands besides Manage Server / Administrator.",
    )
    home_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Server ids, comma-separated, whose admins are the bot's operators (besides its owner): "
        "they may /reindex, remove anyone's articles, and their /ingest adds news every server sees. "
        "Unset with the bot in one server: that server's admins are its operators.",
    )
    answer_channels: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Channel ids, comma-separated, where every message is answered without a mention "
        "(needs the message content intent).",
    )
    sync_commands: bool = Field(False, description="Sync slash commands on start even if unchanged.")
    message_content: bool = Field(
        True,
        description="Request the privileged message content intent (answer channels need it); "
        "the bot falls back to mentions only if Discord refuses it.",
    )
    question_rate: int = Field(3, ge=1, description="Questions one member may ask per cooldown window.")
    vote_rate: int = Field(
        10, ge=1, description="👍/👎 votes one member may cast per cooldown window (apart from questions)."
    )
    question_window: float = Field(60.0, gt=0, description="The per-member cooldown window, in seconds.")
    max_concurrent_questions: int = Field(
        4, ge=1, description="Questions answered at once; more are told to retry shortly."
    )
    shared_limits: bool = Field(
        False,
        description="Keep the per-member limits in the store, so several bot processes sharing it "
        "(NEWSBOT_SHARDS) count each member's questions together; one write per question.",
    )
    history_turns: int = Field(
        6, ge=0, description="Earlier turns of a reply chain or thread used as context."
    )
    progress_interval: float = Field(2.0, gt=0, description="Seconds between /reindex progress edits.")
    poll: bool = Field(
        True,
        description="Poll the feeds inside the bot; set false when `newsbot watch` polls them elsewhere "
        "(new stories are posted to channels either way).",
    )
    digest_empty: Literal["skip", "line"] = Field(
        "skip",
        description="A scheduled digest with nothing new: skip posts nothing, line posts one short line.",
    )
    shard_count: int | None = Field(
        None,
        ge=1,
        description="Shards in all (every process of the bot says the same); Discord's "
        "recommendation if unset.",
    )
    shards: Annotated[list[int] | None, NoDecode] = Field(
        None,
        description='The shards this process runs, as ranges and ids ("0-3", "0-3,6"); needs '
        "NEWSBOT_SHARD_COUNT. Unset: every shard.",
    )
    discord_api_base: str | None = Field(
        None, description="Override of Discord's REST base URL (for tests against a local fake only)."
    )

    @field_validator("shards", mode="before")
    @classmethod
    def _shard_ranges(cls, value: object) -> object:
        return parse_shards(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shards_within_count(self) -> BotSettings:
        if self.shards is None:
            return self
        if self.shard_count is None:
            raise ValueError(
                "NEWSBOT_SHARDS (--shards) needs NEWSBOT_SHARD_COUNT (--shard-count): the shards of every "
                "process of the bot, in all"
            )
        beyond = [shard for shard in self.shards if shard >= self.shard_count]
        if beyond:
            raise ValueError(
                f"NEWSBOT_SHARDS (--shards) names shard {beyond[0]}, but there are {self.shard_count} "
                f"shards (NEWSBOT_SHARD_COUNT), numbered 0 to {self.shard_count - 1}"
            )
        return self

    @field_validator("answer_channels", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator("home_guild_ids", mode="before")
    @classmethod
    def _guild_ids(cls, value: object) -> object:
        """Server ids only: a name or a typo stops start-up naming the entry."""
        value = _split(value)
        if not isinstance(value, list):
            return value
        bad = [v for v in value if isinstance(v, str) and not v.strip().isdigit()]
        if bad:
            raise ValueError(
                f"takes server ids, not names ({', '.join(map(repr, bad))}): in Discord, turn on Developer "
                "Mode (User Settings → Advanced), then right-click the server icon → Copy Server ID"
            )
        return value

    @field_validator("admin_roles", mode="before")
    @classmethod
    def _role_ids(cls, value: object) -> object:
        """Role names are refused with a hint: two roles may share a name, and a member able to create
        roles could name one after an admin role."""
        value = _split(value)
        if not isinstance(value, list):
            return value
        names = [v for v in value if isinstance(v, str) and not v.strip().isdigit()]
        if names:
            raise ValueError(
                f"takes role ids, not names ({', '.join(map(repr, names))}): in Discord, turn on Developer "
                "Mode (User Settings → Advanced), then right-click the role → Copy Role ID"
            )
        return value

    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None
