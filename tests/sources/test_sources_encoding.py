"""Compressed responses: gzip and deflate are undone within the size cap, so a few kilobytes that
inflate to gigabytes (a decompression bomb) stop at the cap instead of filling memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from index.sources import FetchError
from tests.helpers.local_http import LocalServer, Response

from .conftest import local_fetcher

PAGE = b"<html><body><p>" + b"A compressed page about the harbour. " * 200 + b"</p></body></html>"


def compressed(server: LocalServer, path: str, body: bytes, encoding: str) -> str:
    return server.route(path, Response(body, headers={"Content-Encoding": encoding}))


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("x-gzip", gzip.compress(PAGE)),
        ("deflate", zlib.compress(PAGE)),
        ("deflate", b"raw"),  # deflate without its zlib header, as some servers send it
        ("identity", PAGE),
    ],
)
def test_gzip_and_deflate_bodies_are_decoded(server: LocalServer, encoding: str, packed: bytes) -> None:
    if packed == b"raw":
        deflater = zlib.compressobj(wbits=-15)
        packed = deflater.compress(PAGE) + deflater.flush()
    with local_fetcher() as fetcher:
        assert fetcher.fetch(compressed(server, "/p", packed, encoding)).body == PAGE


def test_only_encodings_it_can_bound_are_asked_for(server: LocalServer) -> None:
    with local_fetcher() as fetcher:
        fetcher.fetch(server.route("/plain", Response(PAGE)))
    assert server.requests[0][1]["accept-encoding"] == "gzip, deflate"


def test_a_gzip_bomb_stops_at_the_cap_without_inflating_whole_chunks(server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 200_000_000, 9)  # about 200 KB on the wire
    url = compressed(server, "/bomb", bomb, "gzip")
    cap = 1_000_000
    with local_fetcher(max_bytes=cap) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.kind == "too-large"
    assert peak < 8 * cap  # whole 64 KB chunks inflated at once would reach tens of megabytes


def test_stacked_or_unknown_encodings_are_refused(server: LocalServer) -> None:
    twice = gzip.compress(gzip.compress(PAGE))
    with local_fetcher() as fetcher:
        for path, body, encoding in [("/twice", twice, "gzip, gzip"), ("/br", PAGE, "br")]:
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(compressed(server, path, body, encoding))
            assert caught.value.kind == "bad-response"
            assert "unsupported content encoding" in caught.value.reason


def test_a_corrupt_compressed_body_is_a_bad_response(server: LocalServer) -> None:
    with local_fetcher() as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(compressed(server, "/bad", b"\x1f\x8bnot really gzip at all", "gzip"))
    assert caught.value.kind == "bad-response"
