"""What the bot reports back about its servers and channels: a channel it cannot post to, a server it
left or rejoined. (The engine knows channels and servers only as opaque ids.)"""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import Engine
from .feeds import check_scope

GUILD_PREFIX = "guild:"


def post_failed(engine: Engine, channel_id: int, reason: str, *, stop: bool = False) -> int:
    """Record on the feeds posting to `channel_id` why posting failed (their last error); with `stop`
    (the channel is gone) they post nowhere from now on. Returns how many feeds."""
    return engine.store.feeds.channel_failed(channel_id, reason, stop=stop)


def resume_scope(engine: Engine, scope: str) -> int:
    """Poll a scope's feeds again (the bot was invited back to that server). Returns how many."""
    check_scope(scope)
    return engine.store.feeds.resume_scope(scope)


def departed_scopes(engine: Engine, guild_ids: Iterable[int]) -> list[str]:
    """The guild scopes with unpaused feeds whose server is not among `guild_ids` (the bot's servers)."""
    present = {f"{GUILD_PREFIX}{g}" for g in guild_ids}
    scopes = {row["scope"] for row in engine.store.feeds.all() if not row["paused"]}
    return sorted(s for s in scopes if s.startswith(GUILD_PREFIX) and s not in present)
