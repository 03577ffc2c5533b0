"""End-to-end checks of the fake Discord harness with the real discord.py client."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fake_discord import FakeDiscord, Perm, World
from tests.fake_discord.gateway import REQUEST_MEMBERS, RESUME

pytest_plugins = ["tests.fake_discord.plugin"]

CALLBACK = r"/interactions/\d+/[^/]+/callback"


def make_bot(
    *, message_content: bool = True, members: bool = False, cls: type[commands.Bot] = commands.Bot
) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    intents.members = members
    return cls(command_prefix="!", intents=intents)


async def test_connects_and_sees_the_seeded_guild(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()
    ready = asyncio.Event()

    @bot.event
    async def on_ready() -> None:
        ready.set()

    async with fake.run_bot(bot):
        await asyncio.wait_for(ready.wait(), 1)
        # Only the fake was contacted: login went to it, with the bot token.
        login = await fake.wait_for_request("GET", "/users/@me")
        assert login.headers["Authorization"] == f"Bot {fake.token}"
        await fake.wait_for_request("GET", r"/(oauth2/)?applications/@me")
        assert fake.api_url == Route.BASE
        assert fake.hub.connection_log[0][1]["compress"] == "zlib-stream"
        assert fake.identify["intents"] == bot.intents.value
        assert fake.hub.heartbeats >= 1  # discord.py beats right after HELLO; the fake ACKs

        assert bot.user is not None and bot.user.id == w.bot_id
        assert bot.application_id == w.application_id
        guild = bot.get_guild(w.guild_id)
        assert guild is not None and guild.name == "Newsroom"
        assert {c.name for c in guild.text_channels} == {"general", "news-desk", "announcements"}
        thread = guild.get_thread(w.thread_id)
        assert thread is not None and thread.parent_id == w.general_id
        roles = {r.name: r for r in guild.roles}
        assert roles["Admin"].permissions.manage_guild
        assert not roles["@everyone"].permissions.manage_guild
        me = guild.me
        assert me.get_role(w.bot_role_id) is not None
        assert me.guild_permissions.send_messages
        announcements = guild.get_channel(w.announcements_id)
        assert announcements is not None and not announcements.permissions_for(me).send_messages
        # Without the members intent discord.py caches only the bot itself.
        assert guild.get_member(w.admin_id) is None
    assert fake.unknown_requests == []
    assert fake.hub.connections == []  # the bot closed its websocket


async def test_members_intent_chunks_members_with_roles(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    async with fake.run_bot(make_bot(members=True)) as bot:
        assert any(p["op"] == REQUEST_MEMBERS for p in fake.hub.received)  # chunked at startup
        guild = bot.get_guild(w.guild_id)
        assert guild is not None and guild.chunked
        admin, member, owner = guild.get_member(w.admin_id), guild.get_member(w.member_id), guild.owner
        assert admin is not None and member is not None and owner is not None
        assert admin.guild_permissions.manage_guild and not admin.guild_permissions.administrator
        assert not member.guild_permissions.manage_guild
        assert [r.name for r in member.roles] == ["@everyone", "Subscriber"]
        assert owner.id == w.owner_id and owner.guild_permissions.administrator


async def test_message_reply_is_recorded_with_reference_and_allowed_mentions(
    fake_discord: FakeDiscord,
) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        async with message.channel.typing():
            await message.reply(
                f"You said: {message.content}", allowed_mentions=discord.AllowedMentions.none()
            )

    async with fake.run_bot(bot):
        sent = await fake.send_message(w.news_desk_id, w.member_id, "what happened today?")
        await fake.wait_for_request("POST", rf"/channels/{w.news_desk_id}/typing")
        req = await fake.wait_for_request("POST", rf"/channels/{w.news_desk_id}/messages")
        assert req.json["content"] == "You said: what happened today?"
        assert str(req.json["message_reference"]["message_id"]) == sent["id"]
        assert req.json["allowed_mentions"] == {"parse": []}
        reply = await fake.wait_for_bot_message(w.news_desk_id)
        assert reply["referenced_message"]["id"] == sent["id"] and reply["type"] == 19
        # The reply was echoed back as MESSAGE_CREATE; the bot ignored its own message.
        await asyncio.sleep(0.05)
        assert len(fake.find_requests("POST", rf"/channels/{w.news_desk_id}/messages")) == 1


async def test_without_message_content_intent_content_is_blank_unless_mentioned(
    fake_discord: FakeDiscord,
) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot(message_content=False)
    seen: asyncio.Queue[str] = asyncio.Queue()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        await seen.put(message.content)

    async with fake.run_bot(bot):
        await fake.send_message(w.general_id, w.member_id, "secret headline")
        assert await asyncio.wait_for(seen.get(), 1) == ""
        await fake.send_message(w.general_id, w.member_id, f"<@{w.bot_id}> hello")
        assert await asyncio.wait_for(seen.get(), 1) == f"<@{w.bot_id}> hello"


async def test_tree_sync_for_guild_is_recorded(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()
    guild = discord.Object(w.guild_id)

    @bot.tree.command(name="ask", description="Ask about the news", guild=guild)
    @app_commands.describe(question="Your question")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.send_message(question)

    async with fake.run_bot(bot):
        synced = await bot.tree.sync(guild=guild)
        req = await fake.wait_for_request(
            "PUT", rf"/applications/{w.application_id}/guilds/{w.guild_id}/commands"
        )
        assert [c["name"] for c in req.json] == ["ask"]
        assert req.json[0]["options"][0]["name"] == "question"
        registered = fake.registered_commands(w.guild_id)
        assert [c["name"] for c in registered] == ["ask"]
        assert synced[0].id == int(registered[0]["id"]) and synced[0].guild_id == w.guild_id
        # A guild command is found by discord.py thanks to data.guild_id, filled in automatically.
        rec = await fake.send_slash_command("ask", {"question": "why?"})
        assert rec.payload["data"]["guild_id"] == str(w.guild_id)
        assert (await fake.wait_for_bot_message())["content"] == "why?"


async def test_slash_command_defer_then_followup(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()
    seen_permissions: list[discord.Permissions] = []

    @bot.tree.command(name="news", description="Latest news")
    async def news(interaction: discord.Interaction, topic: str, limit: int = 3) -> None:
        seen_permissions.append(interaction.permissions)
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{limit} stories about {topic}")

    async with fake.run_bot(bot):
        rec = await fake.send_slash_command("news", {"topic": "elections", "limit": 2}, user_id=w.admin_id)
        callback = await fake.wait_for_request("POST", CALLBACK)
        assert callback.json == {"type": 5}
        followup = await fake.wait_for_request("POST", rf"/webhooks/{w.application_id}/{rec.token}")
        assert followup.json["content"] == "2 stories about elections"
        assert rec.callback_types == [5]
        assert await rec.wait_acknowledged() < 3.0
        message = await fake.wait_for_bot_message(w.general_id)
        assert message["content"] == "2 stories about elections"
        # The first followup after a defer *replaces* the "thinking…" message.
        assert int(message["id"]) == rec.original_message_id and rec.followup_ids == []
        assert seen_permissions[0].manage_guild and not seen_permissions[0].administrator


async def test_autocomplete_gets_type_8_choices(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    bot = make_bot()

    @bot.tree.command(name="topic", description="Pick a topic")
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @topic.autocomplete("name")
    async def topic_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        topics = ["economy", "elections", "energy", "sport"]
        return [app_commands.Choice(name=t.title(), value=t) for t in topics if t.startswith(current)]

    async with fake.run_bot(bot):
        rec = await fake.send_autocomplete("topic", {"name": "e"}, focused="name")
        await rec.wait_acknowledged()
        req = await fake.wait_for_request("POST", CALLBACK)
        assert req.json["type"] == 8
        assert [c["value"] for c in req.json["data"]["choices"]] == ["economy", "elections", "energy"]
        assert rec.autocomplete_choices == req.json["data"]["choices"]


async def test_button_click_reaches_view_callback() -> None:
    bot = make_bot()
    clicked_by: list[int] = []

    class MoreView(discord.ui.View):
        @discord.ui.button(label="More", custom_id="news:more")
        async def more(self, interaction: discord.Interaction, button: discord.ui.Button[MoreView]) -> None:
            clicked_by.append(interaction.user.id)
            await interaction.response.edit_message(content="Here is more.", view=None)

    @bot.tree.command(name="headlines", description="Headlines")
    async def headlines(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Top story", view=MoreView())

    async with FakeDiscord() as fake, fake.run_bot(bot):
        w = fake.world
        await fake.send_slash_command("headlines")
        message = await fake.wait_for_bot_message()
        button = message["components"][0]["components"][0]
        assert button["custom_id"] == "news:more" and button["label"] == "More"

        rec = await fake.click_component(int(message["id"]), "news:more", user_id=w.admin_id)
        await rec.wait_acknowledged()
        assert rec.callback_types == [7]
        assert clicked_by == [w.admin_id]
        assert fake.store.by_id[int(message["id"])]["content"] == "Here is more."
    # Bot, views and server are gone without leaving tasks behind.
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_message_context_menu_resolves_target_message(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()

    @bot.tree.context_menu(name="Fact check")
    async def fact_check(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"Checking: {message.content}", ephemeral=True)

    async with fake.run_bot(bot):
        target = await fake.send_message(w.general_id, w.member_id, "The moon is made of cheese")
        rec = await fake.send_message_command("Fact check", int(target["id"]))
        reply = await fake.wait_for_bot_message()
        assert reply["content"] == "Checking: The moon is made of cheese"
        assert reply["flags"] & 64  # ephemeral
        assert rec.callback_types == [4]


async def test_late_acknowledgement_is_rejected_like_discord() -> None:
    errors: list[Exception] = []
    bot = make_bot()

    @bot.tree.command(name="slow", description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.1)
        try:
            await interaction.response.defer()
        except discord.NotFound as exc:
            errors.append(exc)

    async with FakeDiscord(ack_deadline=0.05) as fake, fake.run_bot(bot):
        rec = await fake.send_slash_command("slow")
        req = await fake.wait_for_request("POST", CALLBACK)
        assert req.status == 404 and req.response["code"] == 10062
        assert rec.ack_latency is not None and rec.ack_latency > 0.05
        assert rec.callback_types == []
    assert isinstance(errors[0], discord.NotFound) and errors[0].code == 10062


async def test_unknown_routes_and_injected_failures(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    async with fake.run_bot(make_bot()) as bot:
        with pytest.raises(discord.NotFound):
            await bot.http.request(Route("GET", "/guilds/{guild_id}/bans", guild_id=w.guild_id))
        assert [r.path for r in fake.unknown_requests] == [f"/guilds/{w.guild_id}/bans"]

        channel = bot.get_channel(w.general_id)
        assert isinstance(channel, discord.TextChannel)
        fake.fail_next("POST", rf"/channels/{w.general_id}/messages", status=429)
        await channel.send("retried after a rate limit")
        assert [r.status for r in fake.find_requests("POST", rf"/channels/{w.general_id}/messages")] == [
            429,
            200,
        ]

        with pytest.raises(discord.Forbidden):  # @everyone may not post in #announcements
            await bot.get_channel(w.announcements_id).send("hello")  # type: ignore[union-attr]
        with pytest.raises(discord.HTTPException, match="2000 or fewer"):
            await channel.send("x" * 2001)

        # Anything but the fake is unreachable: host names are not even resolved.
        with pytest.raises(aiohttp.ClientConnectorError):
            await bot.http.get_from_cdn("https://cdn.discordapp.com/avatars/1/a.png")
        assert fake.blocked_hosts == ["cdn.discordapp.com"]
        fake.blocked_hosts.clear()  # expected here; run_bot would otherwise fail the test


async def test_gateway_reconnect_resumes_without_losing_events(fake_discord: FakeDiscord) -> None:
    fake, w = fake_discord, fake_discord.world
    bot = make_bot()
    contents: asyncio.Queue[str] = asyncio.Queue()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        await contents.put(message.content)

    async with fake.run_bot(bot):
        session = next(iter(fake.hub.sessions.values()))
        seq_before = session.seq
        await fake.reconnect_gateway()
        await fake.send_message(w.general_id, w.member_id, "after reconnect")
        assert await asyncio.wait_for(contents.get(), 2) == "after reconnect"
        resume = next(p["d"] for p in fake.hub.received if p["op"] == RESUME)
        assert resume["session_id"] == session.session_id and resume["seq"] == seq_before
        assert fake.hub.connection_log[-1][0] == "/gateway/resume"  # used READY's resume_gateway_url
        assert len(fake.hub.identifies) == 1


async def test_auto_sharded_bot_asks_gateway_bot() -> None:
    world = World()
    async with FakeDiscord(world=world) as fake, fake.run_bot(make_bot(cls=commands.AutoShardedBot)) as bot:
        await fake.wait_for_request("GET", "/gateway/bot")
        assert fake.identify["shard"] == [0, 1]
        assert bot.get_guild(world.guild_id) is not None
    assert DiscordWebSocket.DEFAULT_GATEWAY.host == "gateway.discord.gg"  # restored on exit
    assert Route.BASE == "https://discord.com/api/v10"


async def test_several_guilds_each_with_its_own_members_and_a_guild_the_bot_leaves() -> None:
    world = World()
    other = world.add_guild("Sports Desk")
    world.set_team(world.owner_id, [other.owner_id])
    removed: asyncio.Queue[int] = asyncio.Queue()
    bot = make_bot()

    @bot.event
    async def on_guild_remove(guild: discord.Guild) -> None:
        await removed.put(guild.id)

    async with FakeDiscord(world=world) as fake, fake.run_bot(bot):
        assert {g.id for g in bot.guilds} == {world.guild_id, other.id}
        second = bot.get_guild(other.id)
        assert second is not None and second.name == "Sports Desk"
        assert [c.id for c in second.text_channels] == [other.general_id]
        # Each guild's admins are admins there only; a channel's permissions come from its own guild.
        assert world.permissions(other.admin_id, other.general_id) & Perm.MANAGE_GUILD
        assert not world.permissions(other.member_id, other.general_id) & Perm.MANAGE_GUILD
        assert world.permissions(world.admin_id, other.general_id) == 0  # not a member there
        app = await bot.application_info()
        assert app.team is not None and {m.id for m in app.team.members} == {world.owner_id, other.owner_id}

        await bot.get_channel(other.general_id).send("hello B")
        posted = await fake.wait_for_bot_message(other.general_id)
        assert posted["content"] == "hello B"

        await fake.remove_bot_from_guild(other.id)
        assert await asyncio.wait_for(removed.get(), 2) == other.id
        assert bot.get_guild(other.id) is None
        with pytest.raises(discord.Forbidden):  # no longer a member: no access to its channels
            await bot.http.send_message(other.general_id, params=discord.http.handle_message_parameters("x"))
