"""Pure rendering: answers, summaries and search results → Discord messages within Discord's limits.

Nothing here talks to Discord or the engine. Long text is split at paragraph, line, sentence or word
boundaries (never silently cut): concatenating the parts gives back the text exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord

from index.answers import cite
from index.models import Answer, Article, Citation, Hit, Summary

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # per message, summed over its embeds
EMBEDS_PER_MESSAGE = 10

COLOR = discord.Colour(0x2B6CB0)
ABSTAIN_COLOR = discord.Colour(0x718096)
NOT_COVERED = "The news I hold does not cover this."
SNIPPET = 300  # characters of an excerpt shown in result lists, marked with "…" when longer
EXCERPT = 200  # characters of a quoted excerpt under its source (the answer above quotes it whole)

_BREAKS = ("\n\n", "\n", ". ", "; ", ", ", " ")


@dataclass(frozen=True)
class IndexInfo:
    """What the footer says about the index: how many articles, last updated when; and, when it matters
    (index/answers/freshness.py), how current the news is ("as of": the latest successful feed check)."""

    articles: int
    updated_at: str | None
    news_as_of: str | None = None  # the latest successful check of a feed the reader sees
    as_of: str | None = None  # set when the footer should say "News as of …"


@dataclass
class Outgoing:
    """One message to send: content and/or embeds; pings always disabled."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)

    def kwargs(self) -> dict:
        return {
            "content": self.content,
            "embeds": self.embeds,
            "allowed_mentions": discord.AllowedMentions.none(),
        }


# -- splitting ------------------------------------------------------------------------------------


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    for sep in _BREAKS:
        i = window.rfind(sep)
        if i > 0:
            return i + len(sep)
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, broken at the best boundary; `"".join(parts) == text`."""
    parts: list[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        parts.append(text[:cut])
        text = text[cut:]
    if text or not parts:
        parts.append(text)
    return parts


def plain_messages(text: str) -> list[Outgoing]:
    """Plain text as messages of at most 2,000 characters."""
    return [Outgoing(content=part) for part in split_text(text, CONTENT_LIMIT)]


# -- packing embeds ---------------------------------------------------------------------------------


@dataclass
class _Embed:
    title: str | None = None
    url: str | None = None
    description: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)

    def size(self) -> int:
        return (
            len(self.title or "") + len(self.description or "") + sum(len(n) + len(v) for n, v in self.fields)
        )


@dataclass(frozen=True)
class Section:
    """A titled list of lines, rendered as embed fields (continued over as many as it needs)."""

    name: str
    lines: Sequence[str]


def _field_values(lines: Sequence[str]) -> list[str]:
    values: list[str] = []
    current = ""
    for line in lines:
        for piece in split_text(line, FIELD_VALUE_LIMIT):
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) <= FIELD_VALUE_LIMIT:
                current = joined
            else:
                values.append(current)
                current = piece
    if current:
        values.append(current)
    return values


def build_embeds(
    *,
    title: str | None,
    body: str,
    sections: Sequence[Section] = (),
    footer: str | None = None,
    url: str | None = None,
    colour: discord.Colour = COLOR,
) -> list[discord.Embed]:
    """Embeds for a titled body and sections, each within every per-embed limit (footer on the last)."""
    footer_chunks = split_text(footer, FOOTER_LIMIT) if footer else []
    reserve = len(footer_chunks[-1]) if footer_chunks else 0
    if title and len(title) > TITLE_LIMIT:  # too long for a title: lead the body with it instead
        body, title, url = f"**{title}**\n\n{body}", None, None
    specs = [_Embed(description=part or None) for part in split_text(body, DESCRIPTION_LIMIT)]
    specs[0].title, specs[0].url = title, url
    for section in sections:
        for i, value in enumerate(_field_values(section.lines)):
            name = section.name if i == 0 else f"{section.name} (continued)"
            last = specs[-1]
            fits = (
                len(last.fields) < FIELDS_PER_EMBED
                and last.size() + len(name) + len(value) + reserve <= EMBED_TOTAL_LIMIT
            )
            if not fits:
                last = _Embed()
                specs.append(last)
            last.fields.append((name[:FIELD_NAME_LIMIT], value))
    embeds = [_to_discord(spec, colour) for spec in specs]
    for text in footer_chunks[:-1]:  # only an absurd footer needs this
        embeds.append(discord.Embed(description=text, colour=colour))
    if footer_chunks:
        last = embeds[-1]
        if len(last) + reserve > EMBED_TOTAL_LIMIT:
            last = discord.Embed(colour=colour)
            embeds.append(last)
        last.set_footer(text=footer_chunks[-1])
    return embeds


def _to_discord(spec: _Embed, colour: discord.Colour) -> discord.Embed:
    embed = discord.Embed(title=spec.title, url=spec.url, description=spec.description, colour=colour)
    for name, value in spec.fields:
        embed.add_field(name=name, value=value, inline=False)
    return embed


def pack_messages(embeds: Iterable[discord.Embed]) -> list[Outgoing]:
    """Group embeds into messages: at most 10 per message and 6,000 characters in all."""
    messages: list[Outgoing] = []
    for embed in embeds:
        last = messages[-1] if messages else None
        if (
            last is None
            or len(last.embeds) >= EMBEDS_PER_MESSAGE
            or sum(len(e) for e in last.embeds) + len(embed) > EMBED_TOTAL_LIMIT
        ):
            last = Outgoing()
            messages.append(last)
        last.embeds.append(embed)
    return messages


# -- formatting pieces -------------------------------------------------------------------------------


def _link_text(text: str) -> str:
    return text.replace("[", "(").replace("]", ")")


def _link(title: str, url: str | None) -> str:
    if not url:
        return f"**{title}**"
    return f"[{_link_text(title)}]({url.replace(')', '%29').replace(' ', '%20')})"


def link(title: str, url: str | None) -> str:
    """A Markdown link to `url` titled `title` (bold text without a URL)."""
    return _link(title, url)


def when(published: str | None) -> str:
    return published or "undated"


def short_time(iso: str | None) -> str:
    """An ISO timestamp as "2024-01-15 09:30 UTC" ("never" if missing)."""
    if not iso:
        return "never"
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def footer_for(info: IndexInfo) -> str:
    held = f"{info.articles} articles held"
    if info.as_of:
        return f"News as of {short_time(info.as_of)} · {held}"
    return f"{held} · index updated {short_time(info.updated_at)}"


def source_entries(citations: Sequence[Citation]) -> list[str]:
    """One entry per article: its title, outlet and date, then each of its quoted excerpts under its
    label ([1a], [1b], or [2] for an article quoted once), with the outlets whose copies also carry it.
    An entry is one line of its Sources section, so it is kept together where the limits allow."""
    entries = []
    for index, items in cite.by_article(citations):
        c = items[0][1]
        head = f"**[{index}]** {_link(c.title, c.url)} — {c.source or 'unknown outlet'}, {when(c.published)}"
        lines = [head]
        for label, quoted in items:
            outlets = quoted.also_reported_by
            also = f" (also reported by {', '.join(outlets)})" if outlets else ""
            lines.append(f"> **{label}** “{snippet(quoted.excerpt, EXCERPT)}”{also}")
        entries.append("\n".join(lines))
    return entries


def point_line(text: str, citations: Sequence[int], listed: Sequence[Citation] = ()) -> str:
    """A point with its markers, by label when the listed citations are given."""
    markers = cite.labelled(citations, listed) if listed else "".join(f"[{n}]" for n in citations)
    return f"• {text} {markers}".rstrip()


def snippet(text: str, limit: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: _cut_point(flat, limit)].rstrip() + " …"


def hit_line(hit: Hit) -> str:
    head = f"{_link(hit.title, hit.url)} — {hit.source or 'unknown outlet'}, {when(hit.published)}"
    return f"{head}\n> {snippet(hit.excerpt)}"


def article_line(article: Article) -> str:
    outlet = article.source or "unknown outlet"
    return f"{_link(article.title, article.url)} — {outlet}, {when(article.published)}"


# -- documents ---------------------------------------------------------------------------------------


def answer_messages(answer: Answer, info: IndexInfo) -> list[Outgoing]:
    """An answer: quoted sentences with [n] markers, numbered sources, and a footer about the index."""
    if answer.abstained:
        sections = [Section("Closest articles I hold", [hit_line(h) for h in answer.related])]
        embeds = build_embeds(
            title="Not covered",
            body=answer.text.strip() or NOT_COVERED,
            sections=[s for s in sections if s.lines],
            footer=footer_for(info),
            colour=ABSTAIN_COLOR,
        )
    else:
        embeds = build_embeds(
            title="Answer",
            body=cite.relabel(answer.text, answer.citations),
            sections=[Section("Sources", source_entries(answer.citations))],
            footer=footer_for(info),
        )
    return pack_messages(embeds)


def summary_messages(summary: Summary, info: IndexInfo) -> list[Outgoing]:
    body = summary_body(summary) if summary.points else "I found nothing to summarize there."
    embeds = build_embeds(
        title=summary.title,
        body=body,
        sections=[Section("Sources", source_entries(summary.citations))],
        footer=footer_for(info),
    )
    return pack_messages(embeds)


def summary_body(summary: Summary) -> str:
    """A summary's points, each story's heading in bold before its first point."""
    lines = []
    for p in summary.points:
        if getattr(p, "heading", None):
            lines.append(f"**{p.heading}**")
        carried = cite.carried(p.citations, summary.citations)  # "(3 outlets)" when several carried it
        lines.append(point_line(p.text, p.citations, summary.citations) + carried)
    return "\n".join(lines)


def hits_messages(title: str, hits: Sequence[Hit], info: IndexInfo, *, empty: str) -> list[Outgoing]:
    body = "\n\n".join(hit_line(h) for h in hits) or empty
    return pack_messages(build_embeds(title=title, body=body, footer=footer_for(info)))


def articles_messages(
    title: str, articles: Sequence[Article], info: IndexInfo, *, empty: str
) -> list[Outgoing]:
    body = "\n".join(article_line(a) for a in articles) or empty
    return pack_messages(build_embeds(title=title, body=body, footer=footer_for(info)))


def sources_messages(outlets: Sequence[dict], info: IndexInfo, feeds: Sequence[dict] = ()) -> list[Outgoing]:
    """Outlets held, then the feeds followed with their latest successful check (how current each is)."""
    lines = [
        f"**{o['source']}** — {o['articles']} article{'s' if o['articles'] != 1 else ''}, "
        f"newest {when(o['newest'])}"
        for o in outlets
    ]
    body = "\n".join(lines) or "No articles yet: an admin can add some with /ingest."
    feed_lines = [
        f"{link(f.get('title') or f['url'], f['url'])} — news as of {short_time(f.get('last_ok'))}"
        if f.get("last_ok")
        else f"{link(f.get('title') or f['url'], f['url'])} — not checked successfully yet"
        for f in feeds
    ]
    sections = [Section("Feeds followed", feed_lines)] if feed_lines else []
    return pack_messages(build_embeds(title="Sources", body=body, sections=sections, footer=footer_for(info)))


def stats_messages(stats: dict, questions: object, feedback: tuple[int, int]) -> list[Outgoing]:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f} ms"

    q = questions
    lines = [
        f"**Articles** {stats.get('articles', 0)} (+{stats.get('duplicates', 0)} duplicates)",
        f"**Passages** {stats.get('chunks', 0)} · **vectors** {stats.get('vectors', 0)}",
        f"**Model** {stats.get('model')} ({stats.get('dimension') or '?'} dimensions)",
        f"**Index built** {short_time(stats.get('index_built_at'))}",
        f"**Last update** {short_time(stats.get('updated_at'))}",
        f"**Questions** {q.answered} answered, {q.abstained} abstained",  # type: ignore[attr-defined]
        f"**Answer latency** p50 {ms(q.p50_ms)} · p90 {ms(q.p90_ms)} · p99 {ms(q.p99_ms)}",  # type: ignore[attr-defined]
        f"**Feedback** 👍 {feedback[0]} · 👎 {feedback[1]}",
    ]
    return pack_messages(build_embeds(title="newsbot stats", body="\n".join(lines)))


def progress_text(stage: str, done: int, total: int | None, *, full: bool) -> str:
    kind = "Full reindex" if full else "Reindex"
    labels = {
        "chunk": "re-chunking articles",
        "reindex": "building the vector index",
        "lexical": "building the keyword index",
    }
    step = labels.get(stage, stage)
    count = f"{done}/{total}" if total else str(done)
    return f"{kind} running: {step} ({count}). Questions are still answered from the current index."
