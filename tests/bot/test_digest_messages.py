"""A long digest is split over embeds and messages within Discord's limits, never cut."""

from __future__ import annotations

from bot.digests import ALERTS_SECTION, digest_messages
from index.live import digests
from index.models import ArticleDraft
from index.scopes import guild_scope
from tests.bot.helpers import assert_within_limits
from tests.helpers.feed_server import text


def test_a_long_digest_is_split_never_cut(engine):
    drafts = []
    for n in range(30):
        body = text(500 + n, words=160)
        drafts.append(
            ArticleDraft(body, f"s{n}", f"Story {n} {body.split()[0]}", f"Outlet {n}", None, "2026-12-02")
        )
    engine.ingest_items(drafts)
    made = digests.digest(
        engine, viewer=guild_scope(5), since="2026-12-02", until="2026-12-02", max_points=30
    )
    parts = digest_messages(made, "2026-12-01 08:00 UTC to 2026-12-02 08:00 UTC", title="Daily news digest")
    assert len(parts) >= 2 and made.stories >= 15
    shown = ""
    for part in parts:
        payload = {"content": part.content, "embeds": [e.to_dict() for e in part.embeds]}
        assert_within_limits(payload)
        shown += "".join((e.description or "") + "".join(f.value for f in e.fields) for e in part.embeds)
    assert shown.startswith(f"*2026-12-01 08:00 UTC to 2026-12-02 08:00 UTC* · {made.tally}")
    for point in made.points:
        assert point.text in shown  # every point, whole
    for citation in made.citations:
        assert citation.title in shown


def test_alert_stories_deferred_to_the_digest_are_listed_with_links_even_without_points(engine):
    made = digests.digest(engine, viewer=guild_scope(5), since="2026-12-02", until="2026-12-02")
    assert not made.points
    waiting = [
        digests.AlertStory(f"s{n}", f"Rates story {n} " + "x" * 150, f"https://a.example/{n}", "A Daily")
        for n in range(60)
    ]
    parts = digest_messages(
        made, "2026-12-01 to 2026-12-02", title="Daily news digest", alert_stories=waiting
    )
    shown = ""
    for part in parts:
        payload = {"content": part.content, "embeds": [e.to_dict() for e in part.embeds]}
        assert_within_limits(payload)
        shown += "".join("".join(f.name + f.value for f in e.fields) for e in part.embeds)
    assert ALERTS_SECTION in shown
    for story in waiting:
        assert f"({story.url})" in shown  # every one, linked, none cut
