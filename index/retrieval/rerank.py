"""Sentence-level rescoring of the best candidates: which passage of a story holds the answer.

Passage scores (BM25 and embeddings over ~250 tokens plus the article's title) find the right articles
well but often prefer the wrong passage of them: every passage of a story shares its title and topic
words, and the one that states the fact asked about may mention them less. The fact is usually one
sentence, phrased with a few words of one part of the question. So:

1. The question is split into clauses at `,` `;` `?` and "while" / "whereas" (a clause takes in the
   next part until it has `MIN_WORDS` content words, and a shorter part joins the clause before),
   since a multi-part question asks one thing per clause ("Did TechCrunch report X, while The Verge
   said Y?").
2. Each content word (lower case, no stopwords) weighs its idf *within the candidate passages*: the
   words all candidates share (the story's topic) tell them apart least, the specific ones most.
3. A sentence scores, for a clause, the summed weights of the clause's words it contains; a passage
   scores its best sentence's best clause, divided by the best passage's score (so 0..1).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping

from ..storage.fulltext import STOPWORDS
from ..text import sentence_spans

MIN_WORDS = 4  # content words a clause needs to stand on its own
_WORD = re.compile(r"\w+")
_CLAUSE_BREAK = re.compile(r"[;?]|,(?!\d)|\b(?:while|whereas|whilst)\b", re.IGNORECASE)


def content_words(text: str) -> set[str]:
    """Lower-cased words of `text` without stopwords and single letters."""
    return {w for w in _WORD.findall(text.lower()) if (len(w) > 1 or w.isdigit()) and w not in STOPWORDS}


def split_clauses(question: str) -> list[str]:
    """The parts of a question, each with at least MIN_WORDS content words (unless the whole has fewer)."""
    clauses: list[tuple[str, int]] = []
    for part in _CLAUSE_BREAK.split(question):
        size = len(content_words(part))
        if not size:
            continue
        if clauses and (size < MIN_WORDS or clauses[-1][1] < MIN_WORDS):
            text, words = clauses[-1]
            clauses[-1] = (f"{text} {part.strip()}", words + size)
        else:
            clauses.append((part.strip(), size))
    return [text for text, _ in clauses]


def question_clauses(question: str) -> list[set[str]]:
    """The content words of each clause of the question."""
    return [content_words(c) for c in split_clauses(question)]


def passage_words(text: str, spans: list[tuple[int, int]] | None, asked: set[str]) -> list[set[str]]:
    """The `asked` words each sentence of a passage holds (sentences holding none left out).

    Only the clauses' words can score, so each sentence is reduced to those it contains: each asked
    word is looked up with str.find and kept where it stands as a whole word (as a `\\w+` regex
    would cut it). `spans` are the passage's sentence offsets when known (stored at ingest); else
    the passage is split here."""
    sentences = sentence_spans(text) if spans is None else spans
    low = text.lower()
    if len(low) != len(text):  # a letter whose lower case is longer ("İ"): lower sentence by sentence
        sents = [asked.intersection(_WORD.findall(text[s:e].lower())) for s, e in sentences]
    else:
        sents = _words_by_sentence(low, sentences, asked)
    return [sent for sent in sents if sent]


def sentence_scores(
    question: str,
    passages: Mapping[int, str],
    spans: Mapping[int, list[tuple[int, int]] | None] | None = None,
    found: Mapping[int, list[set[str]]] | None = None,
) -> dict[int, float]:
    """{passage id: 0..1}, how well the passage's best sentence matches a clause of the question.

    `spans` gives passages' sentence offsets when known; `found` the `passage_words` of some passages
    when already read (search reads BM25's best while the vector search runs)."""
    clauses = question_clauses(question)
    if not clauses or not passages:
        return dict.fromkeys(passages, 0.0)
    asked = set().union(*clauses)
    spans, found = spans or {}, dict(found or {})
    for pid, text in passages.items():
        if pid not in found:
            found[pid] = passage_words(text, spans.get(pid), asked)
    df = Counter(w for pid in passages for w in set().union(*found[pid]))
    n = len(passages)
    idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
    raw = {
        pid: max(
            (sum(idf[w] for w in clause & sent) for clause in clauses for sent in found[pid]),
            default=0.0,
        )
        for pid in passages
    }
    top = max(raw.values())
    return {pid: (score / top if top else 0.0) for pid, score in raw.items()}


def _words_by_sentence(low: str, sentences: list[tuple[int, int]], asked: set[str]) -> list[set[str]]:
    """For each sentence span of `low`, which of the `asked` words it holds as whole words: the same
    sets as `_WORD.findall(low, start, end)` intersected with `asked`, about ten times faster (a few
    C-level finds per question word instead of a Python string per word of the passage)."""
    starts = [start for start, _ in sentences]
    found: list[set[str]] = [set() for _ in sentences]
    for word in asked:
        at = low.find(word)
        while at >= 0:
            end = at + len(word)
            i = bisect_right(starts, at) - 1
            if i >= 0:
                start, stop = sentences[i]
                if (
                    end <= stop
                    and (at == start or not _is_word_char(low[at - 1]))
                    and (end == stop or not _is_word_char(low[end]))
                ):
                    found[i].add(word)
            at = low.find(word, at + 1)
    return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # what `\w` matches in a str pattern
