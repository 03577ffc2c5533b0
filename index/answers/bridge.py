"""The answer to "who ...?" or "which company ...?" is a name, and a question that describes it by facts
from several reports finds it named in several of the retrieved articles. A sentence naming the names
most of those articles share (the question's own names aside) is more likely to hold the answer than one
that only repeats the question's words; and one that names it in full ("Sam Altman", not "Altman") says
who it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from .candidates import Sentence
from .extract import Scored
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


def full_name(question: str, scored: Sequence[Scored], chosen: Sequence[Sentence]) -> Scored | None:
    """For a question asking for a name: the best sentence naming in full the name the retrieved
    articles share most ("Sam Bankman-Fried", where the chosen sentences only say "Bankman-Fried"), or
    None when a chosen sentence already does (or there is no such name)."""
    if not scored or not asks_for_name(question):
        return None
    asked = set(words(question))
    articles: dict[str, set[str]] = defaultdict(set)
    forms: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    for s in scored:
        for name in entities(s.sentence.text):
            name_words = tuple(words(name))
            for w in name_words:
                if w not in asked and w not in STOPWORDS and len(w) > 2 and not w.isdigit():
                    articles[w].add(s.sentence.article_id)
                    forms[w][name_words] += 1
    if not articles:
        return None
    top = max(articles, key=lambda w: (len(articles[w]), w))
    full = max(forms[top], key=lambda f: (len(f) > 1, forms[top][f], len(f)))
    if any(_names(s.text, full) for s in chosen):
        return None
    return next((s for s in scored if _names(s.sentence.text, full)), None)


def _names(text: str, name: tuple[str, ...]) -> bool:
    return any(_inside(tuple(words(e)), name) for e in entities(text))


def _inside(phrase: tuple[str, ...], name: tuple[str, ...]) -> bool:
    n = len(name)
    return any(phrase[i : i + n] == name for i in range(len(phrase) - n + 1))
