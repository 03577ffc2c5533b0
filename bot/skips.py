"""What members read about an ingest: counts, and skipped items grouped by a member-safe reason.

`/ingest` replies in the channel. A refused or failed fetch's own reason ("connection refused",
"HTTP 403", "timed out", an address) would tell anyone reading what answers on the bot's network, so
members see "could not be fetched" instead; admins running the CLI still see the full reasons.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from index.models import IngestReport, Skipped

FETCH_FAILED = "could not be fetched"
UNREADABLE = "could not be read"
FOREIGN = "already stored from another source (not replaced)"
SHOWN_REASONS = 8  # distinct reasons listed; the rest are counted together
EXAMPLES = 3  # sources named per reason
SOURCE_SHOWN = 120  # characters of a source name

# Words and shapes of network failures: anything like them is never shown verbatim.
_NETWORK = re.compile(
    r"\bHTTP\b|status \d{3}|refused|reset|timed? ?out|timeout|unreachable|resolve|\bDNS\b|name or service"
    r"|network|connect|\bTLS\b|\bSSL\b|certificate|redirect|address|\bhost\b|\bport\b|private|loopback"
    r"|link-local|not allowed|forbidden|blocked|proxy|socket|errno"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-f:.]*:[0-9a-f:.]*\]|\blocalhost\b",
    re.IGNORECASE,
)
# index.ingest.foreign_update's refusal: it names where the stored copy came from (an operator's file
# path, another feed), which is the operator's business, not a member's.
_FOREIGN = re.compile(r"\Anot stored: .* is already stored from another source")
_CRASH = re.compile(r"^unexpected error|Error:|Exception", re.IGNORECASE)
# An item's own name quoted in a reason ("feed entry 'Story 3' has no text"): the examples name the
# items, so reasons that differ only there are one reason.
_QUOTED = re.compile(r"""\s*(?:'[^']*'|"[^"]*"|‘[^’]*’|“[^”]*”)""")


def tells_network(text: str) -> bool:
    """Whether a reason says something about the network (a status, a refusal, an address...)."""
    return _NETWORK.search(text) is not None


def member_reason(skipped: Skipped) -> str:
    """The reason a member may read: network failures and crashes are named only by what happened.

    A fetch failure carries a `kind` once the fetcher sets one; until then (and for reasons built
    around a fetch failure, like a feed entry whose linked page failed) the words decide.
    """
    if getattr(skipped, "kind", None):
        return FETCH_FAILED
    reason = skipped.reason
    if _FOREIGN.match(reason):
        return FOREIGN
    if _NETWORK.search(reason):
        return FETCH_FAILED
    if _CRASH.search(reason):
        return UNREADABLE
    return _QUOTED.sub("", reason)


def _shown(source: str) -> str:
    source = " ".join(source.split())
    return source if len(source) <= SOURCE_SHOWN else source[: SOURCE_SHOWN - 1] + "…"


def ingest_summary(report: IngestReport) -> str:
    """Counts, then skipped items grouped by reason (most frequent first) with a few examples each:
    a summary of any length of skip list, never a wall of lines."""
    text = (
        f"Ingested: {report.added} added, {report.updated} updated, {report.duplicates} duplicates, "
        f"{len(report.skipped)} skipped."
    )
    by_reason: defaultdict[str, list[str]] = defaultdict(list)
    for skipped in report.skipped:
        by_reason[member_reason(skipped)].append(skipped.source)
    counts = Counter({reason: len(sources) for reason, sources in by_reason.items()})
    ranked = counts.most_common()
    for reason, count in ranked[:SHOWN_REASONS]:
        examples = ", ".join(f"<{_shown(s)}>" for s in by_reason[reason][:EXAMPLES])
        more = f" and {count - EXAMPLES} more" if count > EXAMPLES else ""
        text += f"\n• {count} skipped: {reason} — {examples}{more}"
    if len(ranked) > SHOWN_REASONS:
        rest = sum(count for _, count in ranked[SHOWN_REASONS:])
        text += f"\n• {rest} skipped for {len(ranked) - SHOWN_REASONS} other reasons"
    return text
