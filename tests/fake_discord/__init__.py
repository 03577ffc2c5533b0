"""A fake Discord (REST + gateway websocket) for end-to-end tests of the real discord.py client.

The fake runs in-process on ``127.0.0.1`` (ephemeral port). Entering it patches discord.py's
``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY`` and ``Asset.BASE`` so nothing can reach the
real Discord; leaving it restores them::

    import discord
    from discord.ext import commands
    from tests.fake_discord import FakeDiscord

    async def test_reply():
        intents = discord.Intents.default()
        intents.message_content = True
        bot = commands.Bot(command_prefix="!", intents=intents)

        @bot.event
        async def on_message(message: discord.Message) -> None:
            if not message.author.bot:
                await message.reply("pong", allowed_mentions=discord.AllowedMentions.none())

        async with FakeDiscord() as fake, fake.run_bot(bot):
            w = fake.world  # the seed: w.guild_id, w.general_id, w.admin_id, w.member_id ...
            sent = await fake.send_message(w.general_id, w.member_id, "ping")
            req = await fake.wait_for_request("POST", rf"/channels/{w.general_id}/messages")
            assert req.json["message_reference"]["message_id"] == int(sent["id"])

            rec = await fake.send_slash_command("ask", {"question": "what happened?"})
            assert await rec.wait_acknowledged() < 3
            answer = await fake.wait_for_bot_message(w.general_id)

Or take the ``fake_discord`` fixture (``pytest_plugins = ["tests.fake_discord.plugin"]``).

API overview (all on :class:`FakeDiscord`):

* running: ``run_bot(bot)`` (async context manager; fails the test on swallowed discord.py
  errors, blocks host names), ``token``, ``world``, ``api_url``/``gateway_url``;
* injecting: ``send_message``, ``edit_message``, ``delete_message``, ``add_reaction``,
  ``send_slash_command``, ``send_autocomplete``, ``send_message_command``, ``send_user_command``,
  ``click_component``, ``send_interaction`` (any type), ``dispatch`` (any event),
  ``reconnect_gateway``;
* observing: ``requests``/``find_requests``/``wait_for_request`` (:class:`RecordedRequest`),
  ``unknown_requests``, ``bot_messages``/``wait_for_bot_message``, ``interactions``
  (:class:`InteractionRecord`: callbacks, ``ack_latency``), ``registered_commands``,
  ``identify``, ``hub`` (gateway frames, heartbeats, sessions), ``store`` (all messages);
* breaking things: ``fail_next`` (error/429 injection), ``ack_deadline``, ``world`` permissions.

Modules: ``server`` (lifecycle, inspection), ``inject`` (events), ``gateway``, ``rest`` +
``routes`` + ``interactions`` (REST), ``messages`` (store + Discord's limits), ``payloads``
(JSON builders), ``world`` (the seed), ``recorder``, ``runner``, ``patching``, ``plugin``.
"""

from .payloads import ChannelArg, RoleArg, UserArg
from .recorder import InteractionRecord, RecordedFile, RecordedRequest
from .server import FakeDiscord
from .world import ALL_PERMISSIONS, Perm, World

__all__ = [
    "ALL_PERMISSIONS",
    "ChannelArg",
    "FakeDiscord",
    "InteractionRecord",
    "Perm",
    "RecordedFile",
    "RecordedRequest",
    "RoleArg",
    "UserArg",
    "World",
]
