"""Conditional requests (for the poller): validators sent, a 304 returned as such, validators and
Retry-After exposed, and the address rules still applied on every redirect."""

from __future__ import annotations

import pytest

from index.sources import Fetcher, FetchError
from tests.helpers.local_http import LocalServer, Response
from tests.sources.conftest import RSS

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def test_validators_are_sent_and_a_304_comes_back_as_not_modified(server: LocalServer, fetcher: Fetcher):
    def answer(headers: dict[str, str]) -> Response:
        if headers.get("if-none-match") == '"v1"':
            return Response(b"", status=304, content_type=None, headers={"ETag": '"v1"'})
        validators = {"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 08:00:00 GMT"}
        return Response(FEED, content_type=RSS, headers=validators)

    server.routes["/feed"] = answer
    first = fetcher.fetch(server.url("/feed"))
    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', "Tue, 01 Dec 2026 08:00:00 GMT")
    assert not first.not_modified and first.body == FEED
    again = fetcher.fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    sent = server.requests[-1][1]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Tue, 01 Dec 2026 08:00:00 GMT"
    assert "if-none-match" not in server.requests[0][1]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_exposed(server: LocalServer, fetcher: Fetcher, status: int):
    url = server.route("/busy", Response(b"busy", status=status, headers={"Retry-After": "120"}))
    with pytest.raises(FetchError) as raised:
        fetcher.fetch(url, etag='"x"')
    assert (raised.value.kind, raised.value.status, raised.value.retry_after) == (
        "http-status",
        status,
        "120",
    )


def test_a_conditional_request_redirected_to_a_refused_address_is_refused(server: LocalServer):
    moved = server.route("/moved", Response(b"", status=302, headers={"Location": "http://10.0.0.1/feed"}))
    with Fetcher(allow=("127.0.0.1",), timeout=2) as fetcher, pytest.raises(FetchError) as raised:
        fetcher.fetch(moved, etag='"v1"')
    assert raised.value.kind == "refused-address"
