"""Scopes of news (Contract 1 of issue 18): "operator" (every server sees it) or "guild:<id>".

(A minimal stand-in written against the contract until the `scope` branch's module is merged.)"""

from __future__ import annotations

import re

OPERATOR = "operator"
_GUILD = re.compile(r"guild:([1-9][0-9]{0,19})")


def guild_scope(guild_id: int) -> str:
    return f"guild:{int(guild_id)}"


def parse_scope(scope: str) -> str:
    if scope == OPERATOR or (isinstance(scope, str) and _GUILD.fullmatch(scope)):
        return scope
    raise ValueError(f"bad scope {scope!r}: 'operator' or 'guild:<server id>'")
