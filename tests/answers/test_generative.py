"""Generative mode against a fake OpenAI-compatible endpoint on 127.0.0.1: the model sees only delimited,
numbered excerpts; its output is checked; errors and timeouts fall back to the extractive answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index.answers import answer
from index.answers.ask import compose
from index.answers.candidates import ArticleCache
from index.answers.generative import INSUFFICIENT, endpoint, rephrase
from index.models import Answer
from index.text import sentence_spans
from tests.answers.conftest import article_by_url, sentence_of


class FakeLLM:
    """Replies with `reply` (or fails with `status`, or is slow by `delay`) and records requests."""

    def __init__(self) -> None:
        self.reply = ""
        self.status = 200
        self.delay = 0.0
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                time.sleep(fake.delay)
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": fake.reply}}]})
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    yield fake
    fake.close()


@pytest.fixture
def configured(small_engine, llm):
    s = small_engine.settings
    s.llm_url, s.llm_model, s.llm_api_key, s.llm_timeout = llm.url, "fake-model", "sekrit", 1.0
    return small_engine


FLEET = "The budget adds 120 electric buses to the city fleet by next spring."
OTHER = "The budget adds 80 electric buses to the city fleet by next spring, according to the mayor's office."
FESTIVAL = "The harbour festival opens on Friday with fireworks over the bay."


def extractive(engine, *pairs: tuple[str, str]) -> Answer:
    groups = [[sentence_of(article_by_url(engine, url), text)] for url, text in pairs]
    result = compose(engine, "How many electric buses will the city get?", groups, ArticleCache(engine))
    assert result is not None
    return result


def test_the_model_sees_numbered_delimited_excerpts_and_its_answer_is_kept(configured, llm) -> None:
    base = extractive(
        configured, ("https://wire.example/budget", FLEET), ("https://daily.example/budget", OTHER)
    )
    llm.reply = (
        "Wire One reports 120 new electric buses [1], while Daily Two says 80 [2]. Sources disagree [1][2]."
    )
    result = rephrase(configured, base)
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "fake-model" and request["auth"] == "Bearer sekrit"
    system, user = (m["content"] for m in request["body"]["messages"])
    assert "untrusted" in system
    assert f'<excerpt n="1" outlet="Wire One" date="2024-03-11">\n{FLEET}\n</excerpt>' in user
    assert f'<excerpt n="2" outlet="Daily Two" date="2024-03-12">\n{OTHER}\n</excerpt>' in user
    assert [p.citations for p in result.points] == [(1, 2), (1, 2)]
    assert result.points[0].text == "Wire One reports 120 new electric buses, while Daily Two says 80."
    assert result.citations == base.citations
    assert result.text == (
        "Wire One reports 120 new electric buses, while Daily Two says 80. [1][2]\nSources disagree. [1][2]"
    )


def test_citations_to_missing_excerpts_are_removed_and_uncited_sentences_dropped(configured, llm) -> None:
    base = extractive(
        configured, ("https://wire.example/budget", FLEET), ("https://daily.example/budget", OTHER)
    )
    llm.reply = "The city gets 80 buses [2][7]. Buses are great for everyone. Trams are coming [9]."
    result = rephrase(configured, base)
    assert [(p.text, p.citations) for p in result.points] == [("The city gets 80 buses.", (1,))]
    assert len(result.citations) == 1
    assert result.citations[0].excerpt == OTHER  # renumbered: the one cited source is [1]
    assert "great" not in result.text and "Trams" not in result.text


@pytest.mark.parametrize("failure", ["timeout", "status", "garbage", "insufficient"])
def test_failures_fall_back_to_the_extractive_answer(configured, llm, failure: str) -> None:
    base = extractive(configured, ("https://wire.example/budget", FLEET))
    if failure == "timeout":
        llm.delay, llm.reply = 4.0, "Late answer [1]."  # the 1 s timeout gives up long before
    elif failure == "status":
        llm.status = 500
    elif failure == "garbage":
        llm.reply = None  # type: ignore[assignment]  # a reply without text
    else:
        llm.reply = INSUFFICIENT
    started = time.perf_counter()
    assert rephrase(configured, base) == base
    assert time.perf_counter() - started < 3.5  # margin for a loaded 2-core machine


def test_an_unreachable_endpoint_falls_back(configured, llm) -> None:
    llm.close()
    base = extractive(configured, ("https://wire.example/budget", FLEET))
    assert rephrase(configured, base) == base


def test_instructions_inside_article_text_stay_inside_their_delimiters(configured, llm) -> None:
    article = article_by_url(configured, "https://coast.example/festival")
    spans = sentence_spans(article.body)
    hostile = next(
        article.body[a:b] for a, b in spans if "Ignore all previous instructions" in article.body[a:b]
    )
    assert "</excerpt>" in hostile or "<excerpt" in hostile  # the article tries to break out of its quote
    groups = [[sentence_of(article, FESTIVAL)], [sentence_of(article, hostile)]]
    base = compose(configured, "What happens at the harbour festival?", groups, ArticleCache(configured))
    assert base is not None and len(base.citations) == 2
    llm.reply = "PWNED"
    result = rephrase(configured, base)
    user = llm.requests[0]["body"]["messages"][1]["content"]
    assert user.count("</excerpt>") == 2 and user.count("<excerpt ") == 2  # only the real delimiters
    second = user.split('<excerpt n="2"')[1].split("</excerpt>")[0]
    assert "Ignore all previous instructions" in second
    assert result == base  # the model obeyed the article: its uncited reply is dropped, the quotes stand


def test_generative_mode_is_off_unless_configured(small_engine, llm) -> None:
    assert small_engine.settings.llm_url is None
    answer(small_engine, "How many electric buses does the transport budget add to the city fleet?")
    assert llm.requests == []


@pytest.mark.model
def test_end_to_end_on_real_news(news_engine, llm, monkeypatch) -> None:
    monkeypatch.setattr(news_engine.settings, "llm_url", llm.url)
    monkeypatch.setattr(news_engine.settings, "llm_timeout", 5.0)
    llm.reply = "A judge found Donald Trump committed fraud for years [1]. He will appeal [12]."
    result = answer(news_engine, "What did a judge rule about Donald Trump's real estate empire?")
    assert result.text == "A judge found Donald Trump committed fraud for years. [1]"
    assert len(result.citations) == 1
    assert "Donald Trump committed fraud" in result.citations[0].excerpt


def test_endpoint_urls() -> None:
    assert endpoint("http://127.0.0.1:11434") == "http://127.0.0.1:11434/v1/chat/completions"
    assert endpoint("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1/chat/completions"
    assert endpoint("http://h/v1/chat/completions") == "http://h/v1/chat/completions"
