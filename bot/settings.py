"""The bot's own settings (the engine's are `index.config.Settings`), read from the environment and `.env`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
        None, ge=1, description="Shards to run; Discord's recommendation if unset."
    )
    discord_api_base: str | None = Field(
        None, description="Override of Discord's REST base URL (for tests against a local fake only)."
    )

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
