"""Fixtures for the source-parser tests: the fixture folder and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.sources import Fetcher
from tests.helpers.local_http import LocalServer, serve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
LOCAL = ("127.0.0.1",)  # the test servers' address, allowed explicitly (fetching refuses it by default)


def local_fetcher(**options) -> Fetcher:
    """A Fetcher that may reach the test servers on 127.0.0.1."""
    return Fetcher(allow=LOCAL, **options)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the local server must not be routed through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with local_fetcher() as made:
        yield made


# Pages the fetching tests serve.
RSS = "application/rss+xml; charset=utf-8"
FULL_TEXT = [
    "The regional council approved the new tram line on Wednesday after a six-hour debate.",
    "Construction will start next spring and the first trams are expected to run in 2028.",
    "Opponents said the 410 million euro budget left no room for the bus network.",
]


def article_page(title: str, paragraphs: list[str], date: str | None = None) -> bytes:
    date_meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{date_meta}"
        '<meta property="og:site_name" content="Metro Gazette"></head><body>'
        "<nav><a href='/'>Home</a> <a href='/local'>Local</a> <a href='/shop'>Shop our store</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<aside><h3>Most read</h3><ul><li><a href='/x'>Celebrity chef opens bakery</a></li></ul></aside>"
        "<footer>Copyright Metro Gazette</footer></body></html>"
    ).encode()
