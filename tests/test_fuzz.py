"""Property-based tests (hypothesis): no input crashes a parser or the question path.

Every parser returns drafts or Skipped items with a reason; a draft's text is storable (encodes as
UTF-8). Questions of any characters, lone surrogates and control characters included, are parsed,
searched and answered on a small engine with the fake embedder. Example counts are kept small so the
suite stays fast; a failure prints the input that caused it.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.answers import answer
from index.config import Settings
from index.engine import Engine
from index.models import ArticleDraft, Skipped
from index.retrieval.query import parse_query
from index.sources import read_sources
from index.sources.cleaning import Unreadable
from index.sources.feeds import parse_feed
from index.sources.html import decode_html, extract_article
from index.sources.records import parse_json, parse_jsonl, read_jsonl
from index.sources.text_files import parse_markdown, parse_txt
from tests.conftest import bundled_articles, draft_of
from tests.helpers.embedders import HashEmbedder

FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any code point, lone surrogates and controls included (hypothesis leaves surrogates out by default).
any_char = st.characters(codec=None, exclude_categories=())
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
news_words = st.sampled_from(
    ["jellyfish", "Ozempic", "Trump", "after", "before", "between", "and", "October 2023", "2023-10-07",
     "Oct. 7th, 2023", "TechCrunch", "The Verge", "the", "what", "happened", "yesterday", "?", "\x00", "\n"]
)  # fmt: skip
questions = st.one_of(
    st.text(any_char, max_size=60),
    st.lists(st.one_of(news_words, st.text(any_char, max_size=6), surrogates), max_size=14).map(" ".join),
)


def storable(item: ArticleDraft | Skipped) -> None:
    """A parser's output: a draft whose text encodes (SQLite will take it) or a Skipped with a reason."""
    assert isinstance(item, ArticleDraft | Skipped), item
    if isinstance(item, Skipped):
        assert isinstance(item.reason, str) and item.reason.strip()
        assert not item.reason.startswith("unexpected error"), item.reason
        return
    assert item.body.strip()
    for value in (item.body, item.title, item.source, item.url, item.author, item.published):
        if value is not None:
            value.encode("utf-8")


# -- parsers ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(any_char, max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["body", "text", "title", "url", "date", "source", "author", "articles", "x"]),
            inner,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@FEW
@given(text=st.text(any_char, max_size=300))
def test_text_and_markdown_parsers_never_crash(text):
    storable(parse_txt(text, "a.txt"))
    storable(parse_markdown(text, "a.md"))
    storable(parse_markdown("---\n" + text, "b.md"))


@FEW
@given(value=json_values, raw=st.text(any_char, max_size=200))
@example(value={"body": "lone \ud800 surrogate", "title": "\udfff"}, raw="")
def test_json_and_json_lines_parsers_never_crash(value, raw):
    encoded = json.dumps(value)
    for text in (encoded, raw, f'{{"articles": [{encoded}]}}'):
        for item in parse_json(text, "a.json"):
            storable(item)
    for item in parse_jsonl(f"{encoded}\n{raw}\n{encoded}", "a.jsonl"):
        storable(item)


@FEW
@given(data=st.binary(max_size=400), cap=st.integers(min_value=1, max_value=64))
def test_streamed_json_lines_never_crash(data, cap):
    for item in read_jsonl(io.BytesIO(data), "a.jsonl", max_record=cap):
        storable(item)


markup = st.lists(
    st.one_of(
        st.sampled_from(["<html>", "<head>", "<title>", "</title>", "<body>", "<article>", "<p>", "</p>",
                         "<script>", "<h1>", "<meta charset='latin-1'>", "<!--", "-->", "&amp;", "&#0;",
                         "&#xD800;", "<![CDATA[", "]]>", "<br/>", "</html>"]),
        st.text(any_char, max_size=20),
    ),
    max_size=30,
).map("".join)  # fmt: skip


@FEW
@given(page=markup, charset=st.sampled_from([None, "utf-8", "latin-1", "no-such-charset", "utf-16"]))
def test_html_parser_never_crashes(page, charset):
    data = page.encode("utf-8", "surrogatepass")
    try:
        html = decode_html(data, charset)
    except Unreadable as error:
        assert error.reason
        return
    storable(extract_article(html, "a.html", url="https://example.org/a"))


feeds = st.lists(
    st.one_of(
        st.sampled_from(['<?xml version="1.0"?>', "<rss version='2.0'>", "<channel>", "<item>", "</item>",
                         "<title>", "</title>", "<link>https://example.org/x</link>", "<description>",
                         "</description>", "<pubDate>Mon, 02 Oct 2023 10:00:00 GMT</pubDate>", "<feed>",
                         "<entry>", "<content type='html'>", "&lt;p&gt;", "</channel>", "</rss>"]),
        st.text(any_char, max_size=20),
    ),
    max_size=30,
).map("".join)  # fmt: skip


@FEW
@given(feed=feeds)
def test_feed_parser_never_crashes_and_never_fetches(feed):
    data = feed.encode("utf-8", "surrogatepass")
    for item in parse_feed(data, "a.xml", fetcher=None, fetch_linked=False):
        storable(item)


@FEW
@given(
    data=st.binary(max_size=300), suffix=st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl", ".rss"])
)
def test_every_file_kind_from_raw_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"item{suffix}"
    path.write_bytes(data)
    for item in read_sources([str(path)], fetch_linked=False):
        storable(item)


# -- the question path --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz-engine") / "data"
    with Engine(Settings(data_dir=data, _env_file=None), embedder=StrictHashEmbedder()) as engine:
        engine.ingest_items(draft_of(r) for r in bundled_articles()[:8])
        yield engine


class StrictHashEmbedder(HashEmbedder):
    """Refuses what a real tokenizer refuses (text that does not encode), like the real model."""

    def embed(self, texts):
        for text in texts:
            text.encode("utf-8")
        return super().embed(texts)


@FEW
@given(question=questions)
def test_questions_are_parsed_searched_and_answered_whatever_they_hold(small_engine, question):
    parsed = parse_query(question, ["TechCrunch", "The Verge", "Fortune"])
    parsed.text.encode("utf-8")
    for hit in small_engine.search(question, k=3):
        assert small_engine.article(hit.article_id).body[hit.start : hit.end] == hit.excerpt
    result = answer(small_engine, question, now="2023-12-20")
    result.question.encode("utf-8")
    assert result.abstained or result.citations


def test_the_fuzzed_engine_is_not_empty(small_engine):
    assert small_engine.stats()["articles"] == 8
