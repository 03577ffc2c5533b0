"""What the live package hands out: a feed with its health, a preview, and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field


class FeedError(ValueError):
    """Bad input for a feed command (bad URL, interval, scope or id; not a feed): nothing was changed."""


@dataclass(frozen=True)
class Feed:
    id: int
    url: str
    title: str | None
    scope: str
    channel_id: int | None
    interval_s: int
    last_checked: str | None  # ISO 8601 UTC, like every time below
    last_ok: str | None  # the latest successful check (a 304 counts): how current this feed's news is
    last_new: str | None  # the latest check that brought a new article
    last_error: str | None  # why the latest check failed (None after a success)
    failures: int  # consecutive failed checks
    broken: bool  # failures >= BROKEN_AFTER: still tried, at most every 12 hours
    paused: bool  # its server removed the bot: not polled
    next_due: float  # seconds since the epoch
    added_by: str | None
    added_at: str
    articles: int  # articles this feed brought that are stored
    etag: str | None = None  # validators of the latest full answer, sent back in conditional requests
    last_modified: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> Feed:
        return cls(
            id=row["id"], url=row["url"], title=row["title"], scope=row["scope"],
            channel_id=row["channel_id"], interval_s=row["interval_s"], last_checked=row["last_checked"],
            last_ok=row["last_ok"], last_new=row["last_new"], last_error=row["last_error"],
            failures=row["failures"], broken=bool(row["broken"]), paused=bool(row["paused"]),
            next_due=row["next_due"], added_by=row["added_by"], added_at=row["added_at"],
            articles=row.get("articles") or 0, etag=row["etag"], last_modified=row["last_modified"],
        )  # fmt: skip

    def to_json(self) -> dict:
        return {
            "id": self.id, "url": self.url, "title": self.title, "scope": self.scope,
            "interval_s": self.interval_s, "last_checked": self.last_checked, "last_new": self.last_new,
            "last_error": self.last_error, "failures": self.failures, "articles": self.articles,
            "broken": self.broken, "paused": self.paused, "channel_id": self.channel_id,
        }  # fmt: skip


@dataclass(frozen=True)
class PreviewEntry:
    title: str | None
    url: str | None
    published: str | None


@dataclass(frozen=True)
class Preview:
    """A feed as `feeds.check` read it, before anything is added."""

    url: str  # the feed's URL (the advertised one when a page was given)
    title: str | None
    entries: list[PreviewEntry] = field(default_factory=list)  # the latest few, as the feed lists them
    discovered_from: str | None = None  # the page whose <link rel="alternate"> named the feed

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "title": self.title,
            "discovered_from": self.discovered_from,
            "entries": [{"title": e.title, "url": e.url, "published": e.published} for e in self.entries],
        }
