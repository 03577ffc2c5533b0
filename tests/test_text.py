from index.text import canonical_url, content_hash, derive_title, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_split_at_ends_and_paragraphs_with_exact_offsets():
    text = "Prices rose 3% in May. Analysts were surprised!\n\nA new paragraph starts here"
    assert sentences(text) == [
        "Prices rose 3% in May.",
        "Analysts were surprised!",
        "A new paragraph starts here",
    ]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "Mr. Smith met Dr. Jones in the U.S. Senate. J. K. Rowling was not there."
    assert sentences(text) == ["Mr. Smith met Dr. Jones in the U.S. Senate.", "J. K. Rowling was not there."]


def test_closing_quotes_stay_with_their_sentence():
    text = "“We will win,” he said. “It is over.” Then he left."
    assert sentences(text) == ["“We will win,” he said.", "“It is over.”", "Then he left."]


def test_content_hash_ignores_case_spacing_and_punctuation_but_not_words():
    assert content_hash("Hello,  World!\n") == content_hash("hello world")
    assert content_hash("hello world") != content_hash("hello there world")


def test_derived_title_is_the_first_sentence_shortened_at_a_word():
    body = "A storm hit the coast on Monday. Thousands lost power."
    assert derive_title(body) == "A storm hit the coast on Monday."
    long = "word " * 60 + "end."
    title = derive_title(long, limit=30)
    assert len(title) <= 31 and title.endswith("…") and " wor…" not in title


def test_canonical_url_drops_tracking_fragment_and_trailing_slash():
    assert (
        canonical_url("HTTPS://Example.com/news/story/?utm_source=x&id=3#comments")
        == "https://example.com/news/story?id=3"
    )
    assert canonical_url(None) is None
