"""Which addresses fetching may reach: public ones only, unless the operator allows a host or a range.

Every outgoing connection of fetching goes through `GuardedBackend`: it resolves the host name itself,
checks every address it got, and connects to the very address it checked, so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot move the request inside the network.
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]  # (host name, port) -> IP addresses as text

# Names that only ever mean this machine, the local network or a cloud's metadata service; refused
# before any DNS lookup so that not even the lookup leaves the machine.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet")
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "instance-data.ec2.internal"})
_NUMERIC_HOST = re.compile(r"\A[0-9a-fA-FxX.]+\Z")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Lookups run here so the request's deadline bounds them too (getaddrinfo has no timeout of its own).
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsbot-dns")
# The monotonic time the current request must end by (per thread: each fetch sets its own).
deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("fetch_deadline", default=None)


class AddressRefused(Exception):
    """A request was not sent: its host is not a public address and not allowed by NEWSBOT_FETCH_ALLOW."""

    def __init__(self, host: str, why: str) -> None:
        super().__init__(f"refused to fetch from {host}: {why} (allow it with NEWSBOT_FETCH_ALLOW)")
        self.host = host
        self.why = why


class AddressRules:
    """Public addresses only, plus the host names and CIDR ranges in `allow` (e.g. "intranet.example",
    "10.20.0.0/16", "127.0.0.1")."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self.names.add(entry)

    @classmethod
    def parse(cls, setting: str | None) -> AddressRules:
        """Rules from NEWSBOT_FETCH_ALLOW's comma-separated form."""
        return cls((setting or "").split(","))

    def allows_name(self, host: str) -> bool:
        return _normal(host) in self.names

    def check_name(self, host: str) -> IPAddress | None:
        """Refuse a host by its name alone, before any lookup; return the address a literal names.

        Literals are read in every notation a resolver accepts: 2130706433, 0x7f000001, 127.1, [::1]."""
        name = _normal(host)
        if name in self.names:
            return None
        literal = ip_literal(name)
        if literal is not None:
            self.check_address(host, literal)
            return literal
        if name == "localhost" or name.endswith(_LOCAL_SUFFIXES) or name in _METADATA_NAMES:
            raise AddressRefused(host, "a local or cloud-metadata host name")
        if "." not in name:
            raise AddressRefused(host, "a single-label (intranet) host name")
        return None

    def check_address(self, host: str, address: IPAddress) -> None:
        if any(_within(address, network) for network in self.networks):
            return
        problem = why_not_public(address)
        if problem:
            raise AddressRefused(host, f"{address} is {problem}")


def _normal(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")


def ip_literal(host: str) -> IPAddress | None:
    """The address an IP literal names, in any notation inet_aton accepts (decimal, hex, short forms)."""
    host = _normal(host)
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def why_not_public(address: IPAddress) -> str | None:
    """None for a public unicast address, else what it is ("a loopback address", ...)."""
    for embedded in _embedded_ipv4(address):
        problem = why_not_public(embedded)
        if problem:
            return f"{problem} (inside an IPv6 address)"
    checks = (
        ("unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address (cloud metadata lives there)"),
        ("is_site_local", "a site-local address"),  # fec0::/10: deprecated, still routed in some sites
        ("is_multicast", "a multicast address"),
        ("is_private", "a private-network address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, description in checks:
        flag = address.is_unspecified if attribute == "unspecified" else getattr(address, attribute, False)
        if flag:
            return description
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64): checked like their own."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _within(address: IPAddress, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if address.version != network.version:
        mapped = getattr(address, "ipv4_mapped", None)
        return mapped is not None and mapped in network
    return address in network


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def remaining(timeout: float | None) -> float | None:
    """The per-operation timeout cut to what is left of the request's deadline; ReadTimeout if none."""
    end = deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network layer with the address rules: resolve, check every address, connect to one
    of the checked addresses (TLS still names the host: httpcore passes it to start_tls for SNI)."""

    def __init__(
        self,
        rules: AddressRules,
        resolver: Resolver = system_resolver,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.rules = rules
        self.resolver = resolver
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in self.addresses(host, port, timeout):
            try:
                stream = self.inner.connect_tcp(
                    address, port, remaining(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as error:  # try the host's next address, as browsers do
                last_error = error
                continue
            return DeadlineStream(stream)
        raise last_error or httpcore.ConnectError(f"no address for {host}")

    def addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The checked addresses to connect to; AddressRefused if the host or any address is refused."""
        literal = self.rules.check_name(host)
        if literal is not None:
            return [str(literal)]
        future = _lookups.submit(self.resolver, host, port)
        try:
            found = future.result(remaining(timeout))
        except FutureTimeout:
            raise httpcore.ConnectTimeout(f"looking up {host} took too long") from None
        except OSError as error:
            raise httpcore.ConnectError(f"could not resolve host name '{host}' ({error})") from None
        if not self.rules.allows_name(host):
            for text in found:
                self.rules.check_address(host, ipaddress.ip_address(text.split("%", 1)[0]))
        return found

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise AddressRefused(path, "a local socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the current request's deadline,
    so a server dripping its headers a byte at a time cannot hold a fetch past its timeout."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, remaining(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        return DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, remaining(timeout)))

    def get_extra_info(self, info: str):
        return self.stream.get_extra_info(info)
