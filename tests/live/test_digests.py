"""Digests: the period's stories grouped (near-duplicate copies are one story) and ranked by outlets,
verbatim and cited, per viewer; schedules run once per due time, across restarts and processes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.engine import Engine
from index.live import digests
from index.live.digest_times import parse_when
from index.models import ArticleDraft
from index.scopes import guild_scope
from tests.helpers.embedders import HashEmbedder
from tests.live.conftest import live_settings

GUILD, OTHER = guild_scope(11), guild_scope(22)

TUNNEL = (
    "Engineers finished the longest rail tunnel under the northern mountains on Tuesday after nine years. "
    "The tunnel is 57 kilometres long and cuts the journey between the two valleys to forty minutes. "
    "Freight trains will use it from June and passenger services will follow in the autumn. "
    "The project cost 11 billion euros, two billion more than planned, officials said."
)
HARBOUR = (
    "The city council voted to rebuild the old harbour wall after winter storms cracked it in three places. "
    "Repairs start in April and should take eighteen months, the harbour master said on Monday. "
    "Fishing boats will moor at the eastern quay while the work goes on."
)
ORCHARD = (
    "Apple growers in the southern valley reported their smallest harvest in twenty years this autumn. "
    "A late frost in May killed most blossoms, the growers' association said in its yearly report. "
    "Prices for local cider are expected to rise by a fifth next season."
)
STADIUM = (
    "The football club unveiled plans for a new stadium with forty thousand seats beside the ring road. "
    "Building work would begin next spring if the planning board approves the design in January."
)


def draft(body: str, origin: str, title: str, outlet: str, day: str, suffix: str = "") -> ArticleDraft:
    url = f"https://{outlet.lower().replace(' ', '')}.example/{origin}"
    return ArticleDraft(body + suffix, origin, title, outlet, url, day)


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.fixture
def news(engine: Engine) -> Engine:
    return stocked(engine)


@pytest.fixture
def real_news(tmp_path: Path, real_embedder) -> Iterator[Engine]:
    """The same news embedded by the real model (the topic retrieval's evidence gate needs meaning)."""
    with Engine(live_settings(tmp_path / "real"), embedder=real_embedder) as eng:
        yield stocked(eng)


def stocked(engine: Engine) -> Engine:
    """Ingested smallest story first: the order is the outlets', not the ingest's. The tunnel story is
    carried by three outlets (two near-duplicate reprints), the harbour by two, the orchard by one;
    the stadium is one server's own news; an older story lies outside the period."""
    engine.ingest_items([draft(ORCHARD, "orchard", "Small apple harvest", "Valley Post", "2026-12-02")])
    engine.ingest_items(
        [
            draft(HARBOUR, "harbour", "Harbour wall to be rebuilt", "Coast News", "2026-12-02"),
            draft(
                HARBOUR, "harbour2", "Council rebuilds harbour", "Bay Herald", "2026-12-02", " (Bay Herald)"
            ),
        ]
    )
    engine.ingest_items(
        [
            draft(TUNNEL, "tunnel", "Rail tunnel finished", "Wire One", "2026-12-02"),
            draft(
                TUNNEL, "copy1", "Mountain tunnel done", "Daily Two", "2026-12-02", " Reporting by the desk."
            ),
            draft(TUNNEL, "copy2", "Tunnel opens soon", "Times Three", "2026-12-03", " More later."),
        ]
    )
    engine.ingest_items(
        [draft(STADIUM, "stadium", "Stadium plans unveiled", "Sports Desk", "2026-12-02")], scope=GUILD
    )
    old = "The museum reopened its east wing after a two year renovation of the roof and the galleries."
    engine.ingest_items([draft(old, "old", "Museum wing reopens", "Archive", "2026-11-01")])
    return engine


def headings(summary) -> list[str]:
    return [p.heading for p in summary.points if p.heading]


def test_a_digest_groups_copies_into_one_story_ranked_by_outlets_verbatim_and_cited(news):
    made = digests.digest(news, viewer=GUILD, since="2026-12-02", until="2026-12-03")
    assert headings(made)[0] == "Rail tunnel finished (3 outlets: Wire One, Daily Two, Times Three)"
    assert "Harbour wall to be rebuilt (2 outlets: Coast News, Bay Herald)" in headings(made)
    order = [h.split(" (")[0] for h in headings(made)]
    assert order.index("Rail tunnel finished") < order.index("Harbour wall to be rebuilt")
    assert order.index("Harbour wall to be rebuilt") < order.index("Small apple harvest")
    assert "Stadium plans unveiled" in order and "Museum wing reopens" not in order
    assert made.stories == len(order) == 4
    assert {"Wire One", "Daily Two", "Times Three", "Coast News", "Bay Herald"} <= set(made.outlets)
    for citation in made.citations:  # every excerpt is the article's own words at its offsets
        assert news.article(citation.article_id).body[citation.start : citation.end] == citation.excerpt
    assert all(p.citations for p in made.points)
    assert set(made.to_json()) == {"points", "citations"}


def test_a_digest_shows_only_what_the_viewer_may_see(news):
    other = digests.digest(news, viewer=OTHER, since="2026-12-02", until="2026-12-03")
    assert "Stadium plans unveiled" not in " ".join(headings(other))
    assert other.stories == 3


def test_a_topic_digest_keeps_only_the_stories_about_the_topic(real_news):
    made = digests.digest(
        real_news, viewer=GUILD, since="2026-12-02", until="2026-12-03", topic="harbour wall repairs"
    )
    assert [h.split(" (")[0] for h in headings(made)] == ["Harbour wall to be rebuilt"]
    none = digests.digest(real_news, viewer=GUILD, since="2026-12-02", until="2026-12-03", topic="volcano")
    assert none.points == ()


def test_stories_already_posted_are_left_out_and_nothing_new_is_an_empty_digest(news):
    first = digests.digest(news, viewer=GUILD, since="2026-12-02", until="2026-12-03")
    again = digests.digest(
        news, viewer=GUILD, since="2026-12-02", until="2026-12-03", exclude=first.story_ids
    )
    assert again.points == () and again.stories == 0


def test_max_points_is_respected_and_checked(news):
    made = digests.digest(news, viewer=GUILD, since="2026-12-02", until="2026-12-03", max_points=2)
    assert len(made.points) <= 2 and made.stories >= 1
    with pytest.raises(digests.DigestError, match="1 to 30 points"):
        digests.digest(news, viewer=GUILD, since="2026-12-02", until="2026-12-03", max_points=0)


# -- schedules ---------------------------------------------------------------------------------------


def test_a_bad_schedule_is_refused_naming_what_is_wrong_and_nothing_is_added(engine):
    cases = {
        "daily 8h Europe/Paris": 'bad time "8h"',
        "daily 24:00 Europe/Paris": 'bad time "24:00"',
        "weekly someday 08:00 Europe/Paris": 'bad day "someday"',
        "daily 08:00 Europe/Pariss": 'unknown time zone "Europe/Pariss"',
        "monthly 08:00 UTC": "does not say daily or weekly",
    }
    for when, problem in cases.items():
        with pytest.raises(digests.DigestError, match=problem):
            digests.add_schedule(engine, scope=GUILD, channel_id=5, when=when)
    assert digests.schedules(engine) == []


def test_a_server_has_at_most_a_few_schedules(engine):
    for _ in range(digests.MAX_SCHEDULES):
        digests.add_schedule(engine, scope=GUILD, channel_id=5, when="daily 08:00 UTC")
    with pytest.raises(digests.DigestError, match="already has 10"):
        digests.add_schedule(engine, scope=GUILD, channel_id=5, when="daily 09:00 UTC")
    digests.add_schedule(engine, scope=OTHER, channel_id=6, when="daily 09:00 UTC")  # another server's own
    with pytest.raises(digests.DigestError, match="no digest schedule"):
        digests.remove_schedule(engine, digests.schedules(engine, GUILD)[0].id, scope=OTHER)
    assert len(digests.schedules(engine, GUILD)) == digests.MAX_SCHEDULES


def test_a_run_is_claimed_once_at_its_time_and_covers_since_the_previous_run(news):
    made = at("2026-12-01T12:00:00+01:00")
    schedule = digests.add_schedule(
        news, scope=GUILD, channel_id=5, when="daily 08:00 Europe/Paris", now=made
    )
    assert digests.claim_due(news, now=at("2026-12-02T07:59:00+01:00")) == []  # not due yet
    [run] = digests.claim_due(news, now=at("2026-12-02T08:00:00+01:00"))
    assert run.due == at("2026-12-02T08:00:00+01:00") and run.since == at("2026-12-01T08:00:00+01:00")
    assert digests.claim_due(news, now=at("2026-12-02T08:05:00+01:00")) == []  # claimed: never twice
    digests.finish_run(news, run, "delivered", now=at("2026-12-02T08:00:05+01:00"))
    [second] = digests.claim_due(news, now=at("2026-12-03T08:00:30+01:00"))
    assert second.since == run.due  # since the previous run
    assert not set(second.digest.story_ids) & set(run.digest.story_ids)  # no story twice
    assert [r["status"] for r in digests.runs(news, schedule.id)] == ["delivered", "claimed"]


def test_runs_missed_while_down_are_made_once_on_start_only_the_latest(tmp_path: Path):
    settings = live_settings(tmp_path / "data")
    made = at("2026-12-01T12:00:00-05:00")
    with Engine(settings, embedder=HashEmbedder()) as first:
        schedule = digests.add_schedule(
            first, scope=GUILD, channel_id=5, when="daily 08:00 America/New_York", now=made
        )
    # Down for three days: on start, one run (the latest due time), then none until the next.
    with Engine(settings, embedder=HashEmbedder()) as restarted:
        [run] = digests.claim_due(restarted, now=at("2026-12-05T09:30:00-05:00"))
        assert run.due == at("2026-12-05T08:00:00-05:00")
        assert run.since == at("2026-12-04T08:00:00-05:00")
        digests.finish_run(restarted, run, "empty")
    with Engine(settings, embedder=HashEmbedder()) as again:
        assert digests.claim_due(again, now=at("2026-12-05T10:00:00-05:00")) == []
        [later] = digests.claim_due(again, now=at("2026-12-06T08:00:00-05:00"))
        assert later.since == run.due
        assert len(digests.runs(again, schedule.id)) == 2


def test_two_processes_on_one_folder_never_make_one_run_twice(tmp_path: Path):
    settings = live_settings(tmp_path / "data")
    with Engine(settings, embedder=HashEmbedder()) as one, Engine(settings, embedder=HashEmbedder()) as two:
        digests.add_schedule(
            one, scope=GUILD, channel_id=5, when="weekly mon 08:00 UTC", now=at("2026-11-30T09:00:00+00:00")
        )
        due = at("2026-12-07T08:00:00+00:00")
        assert [s.id for s, _ in digests.due_schedules(two, due)] == [1]  # both see it due...
        claimed = digests.claim_due(one, now=due) + digests.claim_due(two, now=due)
        assert len(claimed) == 1  # ...one claims it
        assert claimed[0].since == at("2026-11-30T08:00:00+00:00")  # a week for the first


def test_a_schedule_removed_runs_no_more(engine):
    schedule = digests.add_schedule(engine, scope=GUILD, channel_id=5, when="daily 08:00 UTC", now=0.0)
    digests.remove_schedule(engine, schedule.id, scope=GUILD)
    assert digests.claim_due(engine, now=at("2026-12-05T09:00:00+00:00")) == []


def test_the_listed_next_run_is_local_time(engine):
    schedule = digests.add_schedule(
        engine,
        scope=GUILD,
        channel_id=5,
        when="weekly fri 18:30 Europe/Paris",
        now=at("2026-12-01T00:00:00+00:00"),
    )
    assert schedule.to_json(now=at("2026-12-01T00:00:00+00:00"))["next_run"] == "2026-12-04 18:30 CET"
    assert str(parse_when("weekly Friday 18:30 Europe/Paris")) == "weekly fri 18:30 Europe/Paris"
    assert datetime.fromtimestamp(schedule.created_at, UTC).year == 2026
