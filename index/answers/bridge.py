"""The answer to "who ...?" or "which company ...?" is a name, and a question that describes it by facts
from several reports finds it named in several of the retrieved articles. A sentence naming the names
most of those articles share (the question's own names aside) is more likely to hold the answer than one
that only repeats the question's words; and one that names it in full ("Sam Altman", not "Altman") says
who it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .candidates import Sentence
from .terms import STOPWORDS, entities, words

_ASKS_NAME = frozenset("who whom whose which what".split())  # noqa: SIM905


def asks_for_name(question: str) -> bool:
    """A question whose answer is a name: it opens with who, whom, whose, which or what."""
    first = words(question)[:1]
    return bool(first) and first[0] in _ASKS_NAME


def name_words(text: str, asked: set[str]) -> set[str]:
    """Words of the names a sentence gives that the question does not."""
    return {
        w
        for name in entities(text)
        for w in words(name)
        if w not in asked and w not in STOPWORDS and len(w) > 2 and not w.isdigit()
    }


def shared_names(question: str, sentences: Sequence[Sentence]) -> dict[tuple[str, int, int], float]:
    """Per sentence (`Sentence.key`), how widely the names it gives are shared: the sum over its name
    words of the share of the retrieved articles naming them, at most 1. Empty unless the question asks
    for a name."""
    if not sentences or not asks_for_name(question):
        return {}
    asked = set(words(question))
    found = {s.key: name_words(s.text, asked) for s in sentences}
    articles: dict[str, set[str]] = defaultdict(set)
    for s in sentences:
        for w in found[s.key]:
            articles[w].add(s.article_id)
    total = len({s.article_id for s in sentences})
    if total < 2:
        return {}
    share = {w: (len(a) - 1) / (total - 1) for w, a in articles.items()}  # named once: no support
    return {key: min(1.0, sum(share[w] for w in names)) for key, names in found.items() if names}
