"""What the bot reports back about its servers and channels: a channel it cannot post to, a server it
left or rejoined. (The engine knows channels and servers only as opaque ids.)

A server left pauses everything of its scope: its feeds (no polling), its alerts (no matching, no posts)
and its digest schedules (no runs); joining it again resumes them all together. (Digest schedules are
reached through the store: index.live.digests sits a layer above this module, tests/test_architecture.py;
its pause_scope / resume_scope do the same.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..engine import Engine
from . import alerts
from . import feeds as live_feeds
from .feeds import check_scope

GUILD_PREFIX = "guild:"


@dataclass(frozen=True)
class ScopeCounts:
    """How many feeds, alerts and digest schedules of a scope were paused (or resumed)."""

    feeds: int
    alerts: int
    digests: int

    def __bool__(self) -> bool:
        return bool(self.feeds or self.alerts or self.digests)

    def __str__(self) -> str:
        return f"{self.feeds} feeds, {self.alerts} alerts, {self.digests} digest schedules"


def post_failed(engine: Engine, channel_id: int, reason: str, *, stop: bool = False) -> int:
    """Record on the feeds posting to `channel_id` why posting failed (their last error); with `stop`
    (the channel is gone) they post nowhere from now on. Returns how many feeds."""
    return engine.store.feeds.channel_failed(channel_id, reason, stop=stop)


def resume_scope(engine: Engine, scope: str) -> int:
    """Poll a scope's feeds again (the bot was invited back to that server). Returns how many."""
    check_scope(scope)
    return engine.store.feeds.resume_scope(scope)


def pause_server(engine: Engine, scope: str) -> ScopeCounts:
    """The bot left the scope's server: pause its feeds, alerts and digest schedules."""
    check_scope(scope)
    return ScopeCounts(
        live_feeds.pause_scope(engine, scope), alerts.pause_scope(engine, scope),
        engine.store.digests.set_paused(scope, True),
    )  # fmt: skip


def resume_server(engine: Engine, scope: str) -> ScopeCounts:
    """The bot is back in the scope's server: its feeds, alerts and digest schedules run again (alerts
    paused for another reason than leaving stay paused)."""
    check_scope(scope)
    return ScopeCounts(
        resume_scope(engine, scope),
        alerts.resume_scope(engine, scope),
        engine.store.digests.set_paused(scope, False),
    )


def departed_scopes(engine: Engine, guild_ids: Iterable[int]) -> list[str]:
    """The guild scopes with unpaused feeds, alerts or digest schedules whose server is not among
    `guild_ids` (the bot's servers)."""
    present = {f"{GUILD_PREFIX}{g}" for g in guild_ids}
    scopes = {row["scope"] for row in engine.store.feeds.all() if not row["paused"]}
    scopes |= {row["scope"] for row in engine.store.alerts.all() if not row["paused"]}
    scopes |= {row["scope"] for row in engine.store.digests.schedules() if not row["paused"]}
    return sorted(s for s in scopes if s.startswith(GUILD_PREFIX) and s not in present)
