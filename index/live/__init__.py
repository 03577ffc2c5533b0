"""Live news: feeds followed on a schedule (engine code the bot and the CLI both run).

`feeds` adds, lists, previews and removes feeds; `Poller` checks the due ones (conditional requests,
back-off, one request at a time per host) and ingests their new entries; `posts` offers the new stories
of feeds that post to a channel; `alerts` matches new stories to the topics channels and members follow
(docs/alerts.md). Nothing here knows Discord: a channel is an opaque integer."""

from .discovery import NoFeedFound
from .poller import CycleReport, Poller
from .posts import ChannelPosts, StoryPost, mark_posted, pending_posts
from .records import Feed, FeedError, Preview
from .schedule import DEFAULT_INTERVAL, MIN_INTERVAL, parse_interval

__all__ = [
    "DEFAULT_INTERVAL",
    "MIN_INTERVAL",
    "ChannelPosts",
    "CycleReport",
    "Feed",
    "FeedError",
    "NoFeedFound",
    "Poller",
    "Preview",
    "StoryPost",
    "mark_posted",
    "parse_interval",
    "pending_posts",
]
