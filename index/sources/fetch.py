"""Fetching web pages and feeds over HTTP(S) with httpx: address rules on every connection, one deadline
per request, a size cap, and errors that say what went wrong (`reason`) and what kind of failure it was
(`kind`, for telling members without network details)."""

from __future__ import annotations

import logging
import re
import ssl
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from typing import TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx

from index.sources import addresses
from index.sources.addresses import AddressRefused, AddressRules, GuardedBackend, Resolver, system_resolver

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot; news indexing bot)"
MAX_REDIRECTS = 10
LINKED_WORKERS = 4  # linked pages fetched at once (never two at once from one host)
# A feed's linked pages together get this many request timeouts: a host that answers slowly to every
# link cannot hold one ingest for links x timeout (pages not started by then keep the feed's text).
LINKED_BUDGET_TIMEOUTS = 4
_SCHEMES = ("http", "https")
_BAD_HOST = re.compile(r"[\x00-\x20%/\\<>^`{|}\x7f]")  # never part of a host name: refused before any lookup
_UNRESOLVED = re.compile(r"could not resolve host name '([^']*)'")
_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,"
    "application/json;q=0.8,text/plain;q=0.8,*/*;q=0.5"
)
# Only what _Decoder decodes within the size cap: httpx would also offer br/zstd whenever those
# packages happen to be installed, and decode any of them (stacked, too) a whole chunk at a time.
_ACCEPT_ENCODING = "gzip, deflate"
T = TypeVar("T")


class FetchError(Exception):
    """A URL could not be fetched. `reason` says why, for the operator (it may name addresses and
    ports); `kind` is one of KINDS, safe to show anyone."""

    KINDS = frozenset(
        {"bad-url", "refused-address", "timeout", "http-status", "network", "too-large", "bad-response"}
    )

    def __init__(
        self, reason: str, kind: str = "network", *, status: int | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(reason)
        assert kind in self.KINDS, kind
        self.reason = reason
        self.kind = kind
        self.status = status  # the HTTP status of an "http-status" failure
        self.retry_after = retry_after  # its Retry-After header as sent (429/503 say when to come back)


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    content_type: str  # the Content-Type header as sent ("" when missing)
    body: bytes
    status: int = 200  # 304 (empty body) when a conditional request found the page unchanged
    etag: str | None = None  # the validators a poller sends back next time (conditional requests)
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def mime_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        message = Message()
        message["content-type"] = self.content_type or "application/octet-stream"
        return message.get_content_charset()


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool whose network backend applies the address rules.
    (httpx has no public parameter for the backend yet: encode/httpx pull request 3749.)"""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=LINKED_WORKERS * 2,
            max_keepalive_connections=LINKED_WORKERS * 2,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


class Fetcher:
    """Fetches http(s) URLs through one connection pool (kept-alive connections are reused).

    `timeout` bounds each request as a whole: lookup, connection, headers, redirects and body.
    `max_bytes` caps the body. `allow` names hosts and CIDR ranges that may be reached although they
    are not public (NEWSBOT_FETCH_ALLOW); every other loopback, private, link-local, multicast, reserved
    or metadata address is refused before connecting. Close it (or use it as a context manager)."""

    def __init__(
        self,
        timeout: float = 15,
        max_bytes: int = 5_000_000,
        user_agent: str = DEFAULT_USER_AGENT,
        *,
        allow: Iterable[str] | AddressRules = (),
        resolver: Resolver = system_resolver,
        network: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.rules = allow if isinstance(allow, AddressRules) else AddressRules(allow)
        backend = GuardedBackend(self.rules, resolver, network)
        self._client = httpx.Client(
            transport=_GuardedTransport(backend),
            headers={"User-Agent": user_agent, "Accept": _ACCEPT, "Accept-Encoding": _ACCEPT_ENCODING},
            timeout=timeout,
            trust_env=False,  # no proxy from the environment: it would connect for us, unchecked
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchedPage:
        """Download `url`; raise FetchError with a specific reason and kind on any failure.

        With `etag` / `last_modified` (validators a previous response gave) the request is conditional:
        an unchanged page comes back as a FetchedPage with status 304 and no body."""
        token = addresses.deadline.set(time.monotonic() + self.timeout)
        try:
            return self._fetch(url, _conditional(etag, last_modified))
        except FetchError:
            raise
        except AddressRefused as error:
            raise FetchError(str(error), "refused-address") from None
        except httpx.TimeoutException:
            raise FetchError(_timed_out(self.timeout), "timeout") from None
        except httpx.HTTPError as error:
            raise FetchError(*_network_reason(error)) from None
        except (httpx.InvalidURL, UnicodeError) as error:  # httpx's URL and IDNA checks
            raise FetchError(f"invalid URL ({error})", "bad-url") from None
        finally:
            addresses.deadline.reset(token)

    def fetch_each(self, urls: Iterable[str], then: Callable[[FetchedPage], T]) -> dict[str, T | FetchError]:
        """Fetch several URLs a few at a time, one at a time per host, and pass each page to `then`
        (in the worker, so only its result is kept); failures come back as their FetchError. None is
        started once LINKED_BUDGET_TIMEOUTS request timeouts have passed."""
        by_host: dict[str, list[str]] = defaultdict(list)
        for url in dict.fromkeys(urls):
            by_host[(urlsplit(url).hostname or "").lower()].append(url)
        results: dict[str, T | FetchError] = {}
        budget = LINKED_BUDGET_TIMEOUTS * self.timeout
        ends = time.monotonic() + budget

        def one_host(queue: list[str]) -> None:
            for url in queue:
                if time.monotonic() >= ends:
                    results[url] = FetchError(
                        f"not fetched: the feed's linked pages took longer than {budget:g} seconds", "timeout"
                    )
                    continue
                try:
                    results[url] = then(self.fetch(url))
                except FetchError as error:
                    results[url] = error

        with ThreadPoolExecutor(LINKED_WORKERS, thread_name_prefix="newsbot-fetch") as pool:
            for done in [pool.submit(one_host, queue) for queue in by_host.values()]:
                done.result()
        return results

    def _fetch(self, url: str, headers: dict[str, str]) -> FetchedPage:
        self._check_url(url)
        request = self._client.build_request("GET", url, headers=headers)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    return self._read(response)
                request = response.next_request
            finally:
                response.close()
            target = str(request.url)
            if request.url.scheme not in _SCHEMES:
                raise FetchError(
                    f"redirected to an unsupported URL scheme '{request.url.scheme}:' ({target})", "bad-url"
                )
            self._check_url(target)  # names refused before any lookup, hop by hop
        raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})", "bad-response")

    def _read(self, response: httpx.Response) -> FetchedPage:
        if response.status_code >= 400:
            raise FetchError(
                f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                "http-status",
                status=response.status_code,
                retry_after=response.headers.get("Retry-After"),
            )
        headers = response.headers
        validators = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
        if response.status_code == 304:
            return FetchedPage(str(response.url), "", b"", status=304, **validators)
        content_type = response.headers.get("Content-Type", "")
        length = response.headers.get("Content-Length")
        if length and length.strip().isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"response too large ({int(length)} bytes, limit {self.max_bytes})", "too-large")
        decoder = _Decoder(response.headers.get("Content-Encoding", ""), self.max_bytes)
        chunks: list[bytes] = []
        for raw in response.iter_raw():
            chunks.append(decoder.decode(raw))
        size = decoder.size
        final_url = str(response.url)
        log.debug("fetched %s (%d bytes, %s)", final_url, size, content_type)
        return FetchedPage(
            url=final_url,
            content_type=content_type,
            body=b"".join(chunks),
            status=response.status_code,
            **validators,
        )

    def _check_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as error:
            raise FetchError(f"invalid URL ({error})", "bad-url") from None
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            shown = f"'{scheme}:'" if scheme else "(none)"
            raise FetchError(
                f"unsupported URL scheme {shown}: only http and https URLs can be fetched", "bad-url"
            )
        if not host:
            raise FetchError("invalid URL (no host name)", "bad-url")
        if _BAD_HOST.search(host):
            raise FetchError(f"invalid URL (host name {host!r})", "bad-url")
        self.rules.check_name(host)


class _Decoder:
    """A body's Content-Encoding (identity, gzip or deflate) undone within `limit` bytes of output.

    The cap counts decoded bytes as they come out: a few kilobytes of gzip may inflate to gigabytes
    (a decompression bomb), so no step may produce more than what is left under the cap."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"unsupported content encoding '{content_encoding.strip()}'", "bad-response")
        self.coding = codings[0] if codings else None
        self.limit = limit
        self.size = 0  # decoded bytes so far
        self.raw = 0
        wbits = zlib.MAX_WBITS | 16 if self.coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.inflater = zlib.decompressobj(wbits) if self.coding else None
        self.started = False

    def decode(self, raw: bytes) -> bytes:
        self.raw += len(raw)
        out = raw if self.inflater is None else self._inflate(raw)
        self.size += len(out)
        if self.size > self.limit or self.raw > self.limit:
            raise FetchError(
                f"response too large (more than {self.limit} bytes, download stopped)", "too-large"
            )
        return out

    def _inflate(self, raw: bytes) -> bytes:
        room = self.limit - self.size + 1  # one byte more than fits shows the cap was passed
        try:
            out = self.inflater.decompress(raw, room)
        except zlib.error as error:
            if self.coding != "deflate" or self.started:
                raise FetchError(f"bad HTTP response (cannot decompress: {error})", "bad-response") from None
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent without its zlib header
            self.started = True
            return self._inflate(raw)
        self.started = True
        return out


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The headers of a conditional GET (RFC 9110 section 13.1): a server that honours them answers 304."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g} seconds"


def _network_reason(error: httpx.HTTPError) -> tuple[str, str]:
    """(reason, kind) for a failed request, from the cause httpcore and the socket layer give."""
    cause = error.__context__
    while cause is not None and cause.__context__ is not None and not isinstance(cause, OSError):
        cause = cause.__context__
    text = str(error)
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid URL ({text})", "bad-url"
    if isinstance(error, httpx.RemoteProtocolError | httpx.DecodingError):
        return f"bad HTTP response ({text})", "bad-response"
    if isinstance(cause, ConnectionRefusedError) or "Connection refused" in text:
        return "connection refused", "network"
    if unresolved := _UNRESOLVED.search(text):  # the host of the hop that failed, maybe a redirect's
        return f"could not resolve host name '{unresolved.group(1)}'", "network"
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({cause.verify_message})", "network"
    if isinstance(cause, ssl.SSLError):
        return f"TLS error ({cause.reason or cause})", "network"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the server", "network"
    return f"network error ({text or type(error).__name__})", "network"
