import itertools

from index.embedding.chunking import chunk_spans
from index.text import sentence_spans


def words(texts):
    return [len(t.split()) for t in texts]


BODY = " ".join(f"Sentence number {i} says something about the news today." for i in range(40))


def test_chunks_are_whole_sentences_within_budget_with_overlap():
    spans = chunk_spans(BODY, words, max_tokens=30, overlap_sentences=1)
    sentence_set = set(sentence_spans(BODY))
    starts = {s for s, _ in sentence_set}
    ends = {e for _, e in sentence_set}
    assert len(spans) > 5
    for start, end in spans:
        assert start in starts and end in ends
        assert len(BODY[start:end].split()) <= 30
    # consecutive chunks share exactly one sentence
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert s2 < e1
        assert BODY[s2:e1].count("Sentence number") == 1


def test_every_character_of_the_body_is_in_some_chunk():
    spans = chunk_spans(BODY, words, max_tokens=30, overlap_sentences=0)
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    text_positions = {i for i, ch in enumerate(BODY) if not ch.isspace()}
    assert text_positions <= covered


def test_an_overlong_sentence_is_cut_between_words_and_nothing_is_lost():
    body = "Intro sentence here. " + " ".join(f"w{i}" for i in range(100)) + ". Last one."
    spans = chunk_spans(body, words, max_tokens=20, overlap_sentences=0)
    for start, end in spans:
        assert len(body[start:end].split()) <= 20
        assert not body[start].isspace() and not body[end - 1].isspace()
    joined = " ".join(body[s:e] for s, e in spans)
    assert joined.split() == body.split()


def test_a_giant_word_is_cut_to_fit():
    body = "Short start. " + "x" * 500 + " end."

    def chars(texts):  # worst case: one token per character
        return [len(t.replace(" ", "")) for t in texts]

    spans = chunk_spans(body, chars, max_tokens=40, overlap_sentences=0)
    assert all(chars([body[s:e]])[0] <= 40 for s, e in spans)
    assert sum(body[s:e].count("x") for s, e in spans) == 500


def test_real_tokenizer_keeps_every_chunk_within_the_model_input(real_embedder):
    from tests.conftest import bundled_articles

    body = max((r["body"] for r in bundled_articles()), key=len)
    budget = real_embedder.max_tokens - 40
    spans = chunk_spans(body, real_embedder.count_tokens, budget)
    counts = real_embedder.count_tokens([body[s:e] for s, e in spans])
    assert max(counts) <= budget
    assert len(spans) > 3
