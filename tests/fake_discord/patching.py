"""Point discord.py at the fake: every URL it builds itself comes from these class attributes.

* ``discord.http.Route.BASE`` -- all REST calls, including interaction callbacks and webhooks
  (``discord.webhook.async_`` reuses ``Route``).
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -- discord.py 2.7's ``Client.connect``
  does *not* ask ``GET /gateway``; it dials this URL directly (only ``AutoShardedClient`` without
  ``shard_count`` asks ``GET /gateway/bot``), and falls back to it after an invalidated session.
* ``discord.asset.Asset.BASE`` -- CDN URLs (avatars, icons), so ``Asset.read()`` stays local.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import yarl
from discord.asset import Asset
from discord.gateway import DiscordWebSocket
from discord.http import Route

_active: list[str] = []


@contextmanager
def patch_discord(api_url: str, gateway_url: str, cdn_url: str) -> Iterator[None]:
    """Redirect discord.py's REST base, gateway and CDN URLs; restores them on exit.

    Only one fake may be patched in at a time (the attributes are process-global).
    """
    if _active:
        raise RuntimeError(f"discord.py is already patched to {_active[0]}; stop that fake first")
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE)
    Route.BASE = api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    Asset.BASE = cdn_url
    _active.append(api_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE = saved
        _active.clear()
