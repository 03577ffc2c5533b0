"""Fetching web pages and feeds over HTTP(S), with a time limit, a size cap and specific errors."""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot; news indexing bot)"
_SCHEMES = ("http", "https")
_CHUNK = 64 * 1024
_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,"
    "application/json;q=0.8,text/plain;q=0.8,*/*;q=0.5"
)


class FetchError(Exception):
    """A URL could not be fetched; `reason` says why (shown to the person who gave the URL)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    content_type: str  # the Content-Type header as sent ("" when missing)
    body: bytes

    @property
    def mime_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        message = Message()
        message["content-type"] = self.content_type or "application/octet-stream"
        return message.get_content_charset()


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (urllib would also follow ftp://), with a clear reason."""

    def http_error_302(self, req, fp, code, msg, headers):
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urljoin(req.full_url, location)
            scheme = urlsplit(target).scheme.lower()
            if scheme not in _SCHEMES:
                fp.close()
                raise FetchError(f"redirected to an unsupported URL scheme '{scheme}:' ({target})")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class Fetcher:
    """Fetches http(s) URLs. `timeout` bounds the whole download, `max_bytes` the body size."""

    def __init__(
        self, timeout: float = 15, max_bytes: int = 5_000_000, user_agent: str = DEFAULT_USER_AGENT
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects())

    def fetch(self, url: str) -> FetchedPage:
        """Download `url`; raise FetchError with a specific reason on any failure."""
        _check_url(url)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": _ACCEPT})
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                final_url = response.geturl()
                content_type = response.headers.get("Content-Type", "")
                self._check_length(response.headers.get("Content-Length"))
                body = self._read_capped(response, deadline)
        except FetchError:
            raise
        except urllib.error.HTTPError as error:
            error.close()
            raise FetchError(f"HTTP {error.code} {error.reason}".strip()) from None
        except urllib.error.URLError as error:
            raise FetchError(_network_reason(error.reason, self.timeout, url)) from None
        except TimeoutError:
            raise FetchError(_timed_out(self.timeout)) from None
        except http.client.HTTPException as error:
            raise FetchError(f"bad HTTP response ({type(error).__name__}: {error})") from None
        except OSError as error:
            raise FetchError(_network_reason(error, self.timeout, url)) from None
        except ValueError as error:
            raise FetchError(f"invalid URL ({error})") from None
        log.debug("fetched %s (%d bytes, %s)", final_url, len(body), content_type)
        return FetchedPage(url=final_url, content_type=content_type, body=body)

    def _check_length(self, header: str | None) -> None:
        if header and header.strip().isdigit() and int(header) > self.max_bytes:
            raise FetchError(f"response too large ({int(header)} bytes, limit {self.max_bytes})")

    def _read_capped(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise FetchError(_timed_out(self.timeout))
            chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"response too large (more than {self.max_bytes} bytes, download stopped)")
            chunks.append(chunk)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise FetchError(f"invalid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        shown = f"'{scheme}:'" if scheme else "(none)"
        raise FetchError(f"unsupported URL scheme {shown}: only http and https URLs can be fetched")
    if not parts.hostname:
        raise FetchError("invalid URL (no host name)")


def _timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g} seconds"


def _network_reason(reason: object, timeout: float, url: str) -> str:
    if isinstance(reason, FetchError):
        return reason.reason
    if isinstance(reason, TimeoutError):
        return _timed_out(timeout)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"could not resolve host name '{urlsplit(url).hostname}'"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({reason.verify_message})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, ConnectionResetError):
        return "connection reset by the server"
    return f"network error ({reason})"
