"""Rendering of new stories for a feed's channel: one embed per story, the rest as one line, never cut."""

from __future__ import annotations

from bot import render
from bot.story_posts import channel_messages
from index.live import ChannelPosts, StoryPost
from tests.bot.helpers import assert_within_limits


def story(n: int, lead: str = "A parade of jellyfish filled the harbour.", **fields) -> StoryPost:
    values = {
        "story_id": f"s{n}", "title": f"Story {n}", "outlet": "Test Wire", "published": "2026-12-02",
        "lead": lead, "lead_start": 0, "lead_end": len(lead), "url": f"https://example.org/{n}",
        "other_outlets": (),
    } | fields  # fmt: skip
    return StoryPost(**values)


def offer(posts: list[StoryPost], more_ids: list[str] = ()) -> ChannelPosts:
    return ChannelPosts(channel_id=1, scope="guild:1", posts=posts, more_ids=list(more_ids))


def body(message: render.Outgoing) -> dict:
    return {"content": message.content, "embeds": [e.to_dict() for e in message.embeds]}


def test_a_story_is_one_embed_with_title_link_lead_outlet_date_and_other_outlets():
    [sent] = channel_messages(offer([story(1, title="Jellyfish parade", other_outlets=("Daily Sea",))]))
    [embed] = sent.message.embeds
    assert sent.story_ids == ["s1"] and sent.message.content is None
    assert embed.title == "Jellyfish parade" and embed.url == "https://example.org/1"
    assert embed.description.splitlines() == [
        "> A parade of jellyfish filled the harbour.",
        "— **Test Wire**, 2026-12-02",
        "Also carried by Daily Sea",
    ]
    assert sent.message.kwargs()["allowed_mentions"].to_dict()["parse"] == []


def test_the_rest_become_one_and_n_more_line_marked_with_the_last_story():
    messages = channel_messages(offer([story(n) for n in range(5)], ["s5", "s6", "s7"]))
    assert [m.story_ids for m in messages] == [["s0"], ["s1"], ["s2"], ["s3"], ["s4", "s5", "s6", "s7"]]
    assert messages[-1].message.content.startswith("…and 3 more new stories")
    assert all(m.message.content is None for m in messages[:-1])


def test_only_the_more_line_when_no_story_is_shown():
    [only] = channel_messages(offer([], ["s1"]))
    assert only.message.content.startswith("…and 1 more new story") and not only.message.embeds
    assert only.story_ids == ["s1"]


def test_a_huge_lead_and_title_are_split_never_cut():
    lead = "A sentence that goes on. " * 400  # ~10,000 characters
    messages = channel_messages(offer([story(1, lead=lead, title="T" * 300, outlet="<@&123> @everyone")]))
    assert [m.story_ids for m in messages] == [[]] * (len(messages) - 1) + [["s1"]]
    text = ""
    for m in messages:
        assert_within_limits(body(m.message))
        text += "".join(e.description or "" for e in m.message.embeds)
    assert "T" * 300 in text and "> " + lead.strip() in text.replace("\n", "")


def test_each_story_part_has_a_stable_nonce_of_its_own_per_channel():
    first = channel_messages(offer([story(1), story(2)]))
    again = channel_messages(offer([story(1), story(2)], ["s3"]))
    elsewhere = channel_messages(ChannelPosts(channel_id=2, scope="guild:1", posts=[story(1)]))
    assert [m.nonce for m in first] == [m.nonce for m in again]  # the same story, the same nonce
    assert len({m.nonce for m in first}) == 2 and all(len(m.nonce) <= 25 for m in first)
    assert elsewhere[0].nonce != first[0].nonce
