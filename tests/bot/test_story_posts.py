"""Rendering of new stories for a feed's channel: one embed per story, a few per cycle, never cut."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import render
from bot.story_posts import PER_CYCLE, channel_messages
from tests.bot.helpers import assert_within_limits


@dataclass
class Story:
    story_id: str
    title: str
    lead: str
    source: str | None = "Test Wire"
    published: str | None = "2026-12-02"
    url: str | None = "https://example.org/a"
    also: list[str] = field(default_factory=list)


def body(message: render.Outgoing) -> dict:
    return {
        "content": message.content,
        "embeds": [e.to_dict() for e in message.embeds],
    }


def test_a_story_is_one_embed_with_title_link_lead_outlet_date_and_other_outlets():
    story = Story("s1", "Jellyfish parade", "A parade of jellyfish filled the harbour.", also=["Daily Sea"])
    [sent] = channel_messages([story])
    [embed] = sent.message.embeds
    assert sent.story_ids == ["s1"] and sent.message.content is None
    assert embed.title == "Jellyfish parade" and embed.url == "https://example.org/a"
    assert embed.description.splitlines() == [
        "> A parade of jellyfish filled the harbour.",
        "— **Test Wire**, 2026-12-02",
        "Also carried by Daily Sea",
    ]
    assert sent.message.kwargs()["allowed_mentions"].to_dict()["parse"] == []


def test_more_than_a_handful_become_one_and_n_more_line_carried_with_the_last_story():
    stories = [Story(f"s{i}", f"Story {i}", f"Lead {i}.") for i in range(PER_CYCLE + 3)]
    messages = channel_messages(stories, more=2)
    assert len(messages) == PER_CYCLE
    assert [m.story_ids for m in messages[:-1]] == [[f"s{i}"] for i in range(PER_CYCLE - 1)]
    last = messages[-1]
    # The stories only counted are marked with the message that counts them.
    assert last.story_ids == [f"s{i}" for i in range(PER_CYCLE - 1, PER_CYCLE + 3)]
    assert last.message.content.startswith("…and 5 more new stories")


def test_only_the_more_line_when_every_story_was_held_back():
    [only] = channel_messages([], more=1)
    assert only.message.content.startswith("…and 1 more new story") and not only.message.embeds


def test_a_huge_lead_and_title_are_split_never_cut():
    lead = "A sentence that goes on. " * 400  # ~10,000 characters
    story = Story("s1", "T" * 300, lead, source="<@&123> @everyone")
    messages = channel_messages([story])
    assert [m.story_ids for m in messages] == [[]] * (len(messages) - 1) + [["s1"]]
    text = ""
    for m in messages:
        assert_within_limits(body(m.message))
        text += "".join(e.description or "" for e in m.message.embeds)
    assert "T" * 300 in text
    for line in lead.strip().splitlines():
        assert f"> {line}" in text
