"""The answer to "who ...?" or "which company ...?" is a name, and a question that describes it by facts
from several reports finds it named in several of the retrieved articles. A sentence naming the names
most of those articles share (the question's own names aside) is more likely to hold the answer than one
that only repeats the question's words; and one that names it in full ("Sam Altman", not "Altman") says
who it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from .candidates import Sentence
from .extract import Scored, same_text
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


def full_name(
    question: str,
    scored: Sequence[Scored],
    chosen: Sequence[Sentence],
    keep: Callable[[Sentence], bool] = lambda s: True,
    pool: Sequence[Sentence] = (),
    rescore: Callable[[str, list[Sentence]], list[Scored]] | None = None,
) -> Scored | None:
    """For a question asking for a name: the best sentence naming in full the name the retrieved
    articles share most ("Sam Bankman-Fried", where the chosen sentences only say "Bankman-Fried"), or
    None when a chosen sentence already does (or there is no such name). Only sentences to `keep` are
    quoted. The name's forms are read in every sentence of the retrieved passages (`pool`), and when no
    scored sentence names it in full, the best of those that do (by `rescore`) is taken: the sentence
    that introduces someone in full is often not among the few scored against the question."""
    if not scored or not asks_for_name(question):
        return None
    asked = set(words(question))
    articles: dict[str, set[str]] = defaultdict(set)
    forms: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    for s in _distinct(scored):
        for parts in _name_forms(s.sentence.text):
            for w in parts:
                if w not in asked and w not in STOPWORDS and len(w) > 2 and not w.isdigit():
                    articles[w].add(s.sentence.article_id)
                    forms[w][parts] += 1
    most = max((len(a) for a in articles.values()), default=0)
    if most < 2:  # a name one article gives is not what several reports share
        return None
    seen = {s.sentence.key for s in scored}
    for top in sorted(w for w, a in articles.items() if len(a) == most):  # ties: the first not given in full
        for sentence in pool:
            if sentence.key not in seen:
                for name in _name_forms(sentence.text):
                    if top in name:
                        forms[top][name] += 1
        full = max(forms[top], key=lambda f: (len(f) > 1, forms[top][f], len(f)))
        if not any(_names(s.text, full) for s in chosen):
            break
    else:
        return None
    found = next((s for s in scored if _names(s.sentence.text, full) and keep(s.sentence)), None)
    if found is not None or rescore is None:
        return found
    others = [s for s in pool if s.key not in seen and _names(s.text, full) and keep(s)]
    return next(iter(rescore(question, others)), None) if others else None


def _name_forms(text: str) -> list[tuple[str, ...]]:
    """The words of each name a text gives, names joined by "and" taken apart ("FTX and Alameda" are
    two names)."""
    return [tuple(words(part)) for name in entities(text) for part in name.split(" and ")]


def _distinct(scored: Sequence[Scored]) -> list[Scored]:
    """The sentences without reprints of one already listed (a wire sentence that five outlets carry
    names its names once: it is one report, not five)."""
    kept: list[Scored] = []
    for s in scored:
        if not any(same_text(s.sentence.text, k.sentence.text) for k in kept):
            kept.append(s)
    return kept


def _names(text: str, name: tuple[str, ...]) -> bool:
    return any(_inside(tuple(words(e)), name) for e in entities(text))


def _inside(phrase: tuple[str, ...], name: tuple[str, ...]) -> bool:
    n = len(name)
    return any(phrase[i : i + n] == name for i in range(len(phrase) - n + 1))
