"""Rendering is pure: answers, summaries and lists become messages within every Discord limit."""

from __future__ import annotations

import discord
import pytest

from bot import render
from bot.render import IndexInfo, split_text
from index.models import Answer, Article, Citation, Hit, Point, Summary
from tests.bot.helpers import assert_within_limits

INFO = IndexInfo(articles=60, updated_at="2023-12-26T10:15:00+00:00")
PINGS = "@everyone @here <@123> <@&456>"


def citation(n: int, title: str = "Headline", url: str | None = "https://example.com/a") -> Citation:
    text = f"Sentence {n} said {PINGS}."
    return Citation(
        n, article_id=f"art-{n}", title=title, source="Outlet", url=url, published="2023-12-01",
        excerpt=text, start=0, end=len(text),
    )  # fmt: skip


def long_answer(points: int = 80, citations: int = 60) -> Answer:
    sentence = "The council said the bridge would reopen in spring after repairs, officials confirmed. "
    pts = tuple(Point(sentence * (1 + i % 7) + PINGS, (i % citations + 1,)) for i in range(points))
    cites = tuple(
        citation(n, title=f"A long headline about bridges and councils, part {n} " * 3)
        for n in range(1, citations + 1)
    )
    text = "\n".join(f"{p.text} [{p.citations[0]}]" for p in pts)
    return Answer("when does the bridge reopen?", text, False, pts, cites)


def as_dicts(parts: list[render.Outgoing]) -> list[dict]:
    return [{"content": p.content, "embeds": [e.to_dict() for e in p.embeds]} for p in parts]


@pytest.mark.parametrize("limit", [1, 7, 50, 2000])
def test_split_text_keeps_every_character_and_respects_the_limit(limit):
    text = ("First paragraph. It has two sentences.\n\nSecond, longer paragraph " * 40) + "x" * 120
    parts = split_text(text, limit)
    assert "".join(parts) == text
    assert all(0 < len(p) <= limit for p in parts)


def test_split_text_prefers_paragraphs_then_sentences():
    text = "a" * 30 + "\n\n" + "b" * 30 + ". " + "c" * 30
    assert split_text(text, 40) == ["a" * 30 + "\n\n", "b" * 30 + ". ", "c" * 30]
    assert split_text("", 10) == [""]


def test_long_answer_is_split_within_every_limit_and_nothing_is_lost():
    answer = long_answer()
    parts = render.answer_messages(answer, INFO)
    assert len(parts) > 1
    for body in as_dicts(parts):
        assert_within_limits(body)
    embeds = [e for p in parts for e in p.embeds]
    assert "".join(e.description or "" for e in embeds) == answer.text
    values = [f.value for e in embeds for f in e.fields]
    assert "\n".join(values) == "\n".join(render.source_entries(answer.citations))
    assert embeds[0].title == "Answer"
    assert embeds[-1].footer.text == "60 articles held · index updated 2023-12-26 10:15 UTC"
    assert sum(1 for e in embeds if e.footer.text) == 1


def test_every_part_disables_mentions_and_article_text_stays_verbatim():
    answer = long_answer(points=3, citations=2)
    parts = render.answer_messages(answer, INFO)
    for part in parts:
        allowed = part.kwargs()["allowed_mentions"]
        assert allowed.to_dict() == {"parse": []}
    assert PINGS in parts[0].embeds[0].description  # inert, not rewritten: embeds never ping
    assert all(not p.content for p in parts)  # answers never go in content, where pings would live


def test_sources_are_numbered_linked_with_outlet_and_date():
    (entry,) = render.source_entries([citation(3, title="Bridge [update]", url="https://ex.com/a_(b)")])
    head, quoted = entry.split("\n")
    assert head == "**[1]** [Bridge (update)](https://ex.com/a_(b%29) — Outlet, 2023-12-01"
    assert quoted == f"> **1** “Sentence 3 said {PINGS}.”"
    undated = Citation(
        1, article_id="a", title="T", source=None, url=None, published=None, excerpt="x", start=0, end=1
    )
    assert render.source_entries([undated])[0].startswith("**[1]** **T** — unknown outlet, undated\n")


def _quote(n: int, article: str, text: str, also: tuple[str, ...] = ()) -> Citation:
    return Citation(
        n, article_id=article, title=f"Title {article}", source=f"Outlet {article}", url=None,
        published="2023-12-01", excerpt=text, start=0, end=len(text), also_reported_by=also,
    )  # fmt: skip


def test_one_source_entry_per_article_with_each_quoted_excerpt_under_its_label():
    cites = (
        _quote(1, "fortune", "A whopping 97% of kids used phones at school."),
        _quote(2, "fortune", "The study tracked 203 children for a year."),
        _quote(3, "wire", "Schools are weighing phone bans.", also=("Daily Two",)),
    )
    points = (Point(cites[0].excerpt, (1,)), Point(cites[2].excerpt, (3,)), Point(cites[1].excerpt, (2,)))
    text = "\n".join(f"{p.text} [{p.citations[0]}]" for p in points) + "\nNote: compare [1] and [3]."
    (part,) = render.answer_messages(Answer("phones?", text, False, points, cites), INFO)
    embed = part.embeds[0]
    assert embed.description.splitlines() == [
        "A whopping 97% of kids used phones at school. [1a]",
        "Schools are weighing phone bans. [2]",
        "The study tracked 203 children for a year. [1b]",
        "Note: compare [1a] and [2].",
    ]
    (sources,) = embed.fields
    assert sources.name == "Sources"
    assert sources.value.count("Title fortune") == 1  # the article is listed once
    assert sources.value.splitlines() == [
        "**[1]** **Title fortune** — Outlet fortune, 2023-12-01",
        "> **1a** “A whopping 97% of kids used phones at school.”",
        "> **1b** “The study tracked 203 children for a year.”",
        "**[2]** **Title wire** — Outlet wire, 2023-12-01",
        "> **2** “Schools are weighing phone bans.” (also reported by Daily Two)",
    ]
    summary = Summary("article", "Phones", points, cites)
    (part,) = render.summary_messages(summary, INFO)
    first, second = part.embeds[0].description.splitlines()[:2]
    assert first == "• A whopping 97% of kids used phones at school. [1a]"
    assert second == "• Schools are weighing phone bans. [2] (2 outlets)"  # its outlet and a copy's


def test_many_excerpts_of_one_article_are_split_over_fields_and_never_cut():
    cites = tuple(_quote(n, "long", f"Excerpt number {n} " + "word " * 60) for n in range(1, 22))
    points = tuple(Point(c.excerpt, (c.n,)) for c in cites)
    answer = Answer("q", "\n".join(f"{p.text} [{p.citations[0]}]" for p in points), False, points, cites)
    parts = render.answer_messages(answer, INFO)
    for body in as_dicts(parts):
        assert_within_limits(body)
    values = "\n".join(f.value for p in parts for e in p.embeds for f in e.fields)
    assert values.count("Title long") == 1
    assert len([f for p in parts for e in p.embeds for f in e.fields]) > 1
    for n in range(1, 22):
        assert f"> **1{chr(96 + n)}** “Excerpt number {n} " in values


def test_abstention_says_so_plainly_and_lists_the_closest_articles():
    hit = Hit(
        1, 0.3, article_id="art-1", title="Nearby story", source="Outlet", url="https://ex.com/n",
        published="2023-11-02", excerpt="Some text.", start=0, end=10,
    )  # fmt: skip
    answer = Answer("who won the 2031 cup?", "", True, related=(hit,))
    (part,) = render.answer_messages(answer, INFO)
    embed = part.embeds[0]
    assert embed.description == render.NOT_COVERED
    assert "Nearby story" in embed.fields[0].value


def test_a_title_longer_than_256_leads_the_body_instead_of_being_cut():
    title = "T" * 300
    (embed,) = render.build_embeds(title=title, body="body")
    assert embed.title is None and embed.description == f"**{title}**\n\nbody"


def test_summary_lists_points_with_markers():
    summary = Summary(
        "topic", "Bridges", (Point("One.", (1,)), Point("Two.", (1, 2))), (citation(1), citation(2))
    )
    (part,) = render.summary_messages(summary, INFO)
    assert part.embeds[0].description == "• One. [1]\n• Two. [1][2]"
    digest = Summary("period", "Last week", (Point("One.", (1,), heading="Bridges reopen"),), (citation(1),))
    (part,) = render.summary_messages(digest, INFO)
    assert part.embeds[0].description == "**Bridges reopen**\n• One. [1]"


def test_plain_messages_split_at_2000():
    parts = render.plain_messages("word " * 1000)
    assert len(parts) == 3 and all(len(p.content) <= 2000 for p in parts)
    assert "".join(p.content for p in parts) == "word " * 1000


def test_pack_messages_respects_ten_embeds_and_6000_characters():
    embeds = [discord.Embed(description="x" * 1000) for _ in range(25)]
    messages = render.pack_messages(embeds)
    assert [len(m.embeds) for m in messages] == [6, 6, 6, 6, 1]  # 6 × 1,000 = 6,000
    small = render.pack_messages([discord.Embed(description="x") for _ in range(25)])
    assert [len(m.embeds) for m in small] == [10, 10, 5]


def test_lists_and_stats_render():
    article = Article("a", "Title", False, "Outlet", "https://ex.com", "2023-12-01", None, "body", "now")
    (part,) = render.articles_messages("Latest", [article], INFO, empty="none")
    assert part.embeds[0].description == "[Title](https://ex.com) — Outlet, 2023-12-01"
    (part,) = render.sources_messages([{"source": "Outlet", "articles": 1, "newest": "2023-12-01"}], INFO)
    assert part.embeds[0].description == "**Outlet** — 1 article, newest 2023-12-01"
    hit = Hit(
        1, 1.0, article_id="a", title="T", source=None, url=None, published=None,
        excerpt="word " * 200, start=0, end=5,
    )  # fmt: skip
    assert render.hit_line(hit).endswith(" …") and len(render.hit_line(hit)) < 400


def test_footer_says_news_as_of_when_it_matters():
    info = IndexInfo(articles=60, updated_at="2023-12-26T10:15:00+00:00", as_of="2026-12-02T08:30:00+00:00")
    assert render.footer_for(info) == "News as of 2026-12-02 08:30 UTC · 60 articles held"


def test_sources_list_each_feed_with_its_latest_successful_check():
    feeds = [
        {"feed": 1, "title": "Local Gazette", "url": "http://a.example/rss", "scope": "operator",
         "last_ok": "2026-12-02T08:30:00+00:00"},
        {"feed": 2, "title": None, "url": "http://b.example/rss", "scope": "guild:1", "last_ok": None},
    ]  # fmt: skip
    outlets = [{"source": "Local Gazette", "articles": 3, "newest": "2026-12-01"}]
    [message] = render.sources_messages(outlets, INFO, feeds)
    [embed] = message.embeds
    assert embed.fields[0].name == "Feeds followed"
    assert embed.fields[0].value.splitlines() == [
        "[Local Gazette](http://a.example/rss) — news as of 2026-12-02 08:30 UTC",
        "[http://b.example/rss](http://b.example/rss) — not checked successfully yet",
    ]
