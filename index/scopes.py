"""Who brought an article, and who may see it: scopes and viewers, as plain strings.

A *scope* is `"operator"` (the operator's news: every server sees it) or `"guild:<id>"` (one Discord
server's own news: only that server sees it). A *viewer* decides what a read shows: None = everything
(the CLI and operator tools), `"operator"` = the operator's news only (DMs), `"guild:<id>"` = the
operator's news plus that server's. The engine knows no Discord: a guild is just an id here."""

from __future__ import annotations

import re

OPERATOR = "operator"
GUILD_PREFIX = "guild:"
_GUILD = re.compile(r"guild:([1-9][0-9]{0,19})")


def guild_scope(guild_id: int) -> str:
    """The scope of one server's own news."""
    if isinstance(guild_id, bool) or not isinstance(guild_id, int) or guild_id <= 0:
        raise ValueError(f"not a guild id: {guild_id!r}")
    return f"{GUILD_PREFIX}{guild_id}"


def parse_scope(scope: str) -> str:
    """`scope` itself if it is "operator" or "guild:<id>"; ValueError naming it otherwise."""
    if scope == OPERATOR or (isinstance(scope, str) and _GUILD.fullmatch(scope)):
        return scope
    raise ValueError(f'not a scope: {scope!r} (expected "operator" or "guild:<id>")')


def parse_viewer(viewer: str | None) -> str | None:
    """A viewer is a scope or None (sees everything)."""
    return None if viewer is None else parse_scope(viewer)


def guild_id_of(scope: str) -> int | None:
    """The guild id of a guild scope; None for the operator's."""
    match = _GUILD.fullmatch(scope)
    return int(match.group(1)) if match else None


def visible_scopes(viewer: str | None) -> tuple[str, ...] | None:
    """The scopes whose news `viewer` sees; None for everything."""
    if viewer is None:
        return None
    return (OPERATOR,) if viewer == OPERATOR else (OPERATOR, viewer)
