"""Address rules: fetching refuses every non-public address, in every notation and after redirects,
before connecting; NEWSBOT_FETCH_ALLOW lets named hosts and ranges through. Only 127.0.0.1 is ever
contacted: other addresses are tried against a network layer that records and refuses connections."""

from __future__ import annotations

import socket

import httpcore
import pytest
from pydantic import ValidationError

from index.config import Settings
from index.sources import Fetcher, FetchError, read_sources
from index.sources.addresses import AddressRules, why_not_public
from tests.helpers.local_http import LocalServer, Response

PAGE = (
    b"<html><body><article><p>"
    + b"The harbour bridge reopened on Tuesday. " * 8
    + b"</p></article></body></html>"
)


class NoNetwork(httpcore.NetworkBackend):
    """Records every connection attempt and makes none."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.attempts.append((host, port))
        raise httpcore.ConnectError("no network in this test")


def port_of(server: LocalServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
        "localhost",
        "LOCALHOST.",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "[::]",
    ],
)
def test_loopback_in_every_notation_is_refused_before_connecting(server: LocalServer, host: str) -> None:
    server.route("/", Response(PAGE))
    url = f"http://{host}:{port_of(server)}/"
    with Fetcher() as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == "refused-address"
    assert "NEWSBOT_FETCH_ALLOW" in caught.value.reason
    [skipped] = read_sources([url])  # the default fetcher follows the same rules
    assert skipped.kind == "refused-address"
    assert server.connections == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fec0::1]/",  # IPv6 site-local (deprecated, still routed inside some networks)
        "http://224.0.0.1/",
        "http://[ff02::1]/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.2.10/",
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 wrapping 10.0.0.1
        "http://printer.local/",
        "http://intranet/",
        "http://x.localhost/",
    ],
)
def test_private_link_local_multicast_reserved_and_metadata_are_refused(url: str) -> None:
    network = NoNetwork()
    with Fetcher(network=network) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == "refused-address"
    assert network.attempts == []


def test_names_are_checked_after_resolution_and_every_address_counts() -> None:
    answers = {"private.test": ["10.1.2.3"], "mixed.test": ["93.184.216.34", "127.0.0.1"]}
    network = NoNetwork()
    fetcher = Fetcher(network=network, resolver=lambda host, port: answers[host])
    for name in answers:
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(f"http://{name}/story")
        assert caught.value.kind == "refused-address"
        assert "private-network" in caught.value.reason or "loopback" in caught.value.reason
    assert network.attempts == []


def test_the_checked_address_is_the_one_connected_to(server: LocalServer) -> None:
    # news.test resolves only through this resolver: reaching the server proves the connection went to
    # the address that was checked, not to a second lookup of the name.
    server.route("/story", Response(PAGE))
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    with Fetcher(allow=["127.0.0.1"], resolver=resolver) as fetcher:
        page = fetcher.fetch(f"http://news.test:{port_of(server)}/story")
    assert page.body == PAGE
    assert lookups == ["news.test"]
    assert server.requests[0][1]["host"] == f"news.test:{port_of(server)}"


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/secret", "http://2130706433:{port}/", "http://localhost:{port}/"]
)
def test_a_redirect_to_loopback_is_refused(server: LocalServer, target: str) -> None:
    from tests.helpers.local_http import serve

    with serve() as inside:
        inside.route("/secret", Response(b"internal"))
        location = target.format(port=port_of(inside))
        server.route("/go", Response(status=302, headers={"Location": location}))
        # the outside server is reachable by its (allowed) name; the inside one is not allowed at all
        outside = Fetcher(allow=["news.test"], resolver=lambda host, port: ["127.0.0.1"])
        with outside, pytest.raises(FetchError) as caught:
            outside.fetch(f"http://news.test:{port_of(server)}/go")
        assert caught.value.kind == "refused-address"
        assert [path for path, _ in server.requests] == ["/go"]
        assert inside.connections == []


def test_the_allow_list_lets_named_ranges_and_hosts_through(server: LocalServer) -> None:
    server.route("/story", Response(PAGE))
    with Fetcher(allow=["127.0.0.0/8"]) as fetcher:
        assert fetcher.fetch(f"http://127.1:{port_of(server)}/story").body == PAGE
    with Fetcher(allow=["news.test"], resolver=lambda host, port: ["127.0.0.1"]) as fetcher:
        assert fetcher.fetch(f"http://news.test:{port_of(server)}/story").body == PAGE
        with pytest.raises(FetchError):  # the name is allowed, not the address behind it
            fetcher.fetch(f"http://127.0.0.1:{port_of(server)}/story")
    with Fetcher(allow=["10.0.0.0/8"]) as fetcher, pytest.raises(FetchError):
        fetcher.fetch(f"http://127.0.0.1:{port_of(server)}/story")
    assert len(server.requests) == 2


def test_the_setting_is_comma_separated_names_and_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", " news.intranet.example, 10.20.0.0/16 ,,[::1]")
    allowed = Settings(_env_file=None).fetch_allow_list
    rules = AddressRules(allowed)
    assert rules.names == {"news.intranet.example"}
    assert [str(n) for n in rules.networks] == ["10.20.0.0/16", "::1/128"]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("127.0.0.1/33", "not an IP address or CIDR range"),
        ("999.1.1.1", "not an IP address or CIDR range"),
        ("10.0.0.1-10.0.0.9", "not an IP address or CIDR range"),
        ("*.intranet.example", "no wildcards"),
        ("intra net", "not a host name"),
    ],
)
def test_a_mistyped_allow_entry_is_named_not_taken_for_a_host(
    monkeypatch: pytest.MonkeyPatch, entry: str, problem: str
) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", f"news.intranet.example,{entry}")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert f"'{entry}'" in str(caught.value) and problem in str(caught.value)


def test_public_addresses_are_public() -> None:
    import ipaddress

    for text in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"):
        assert why_not_public(ipaddress.ip_address(text)) is None


def test_default_fetcher_of_the_engine_uses_the_setting(server: LocalServer, tmp_path) -> None:
    from index.engine import Engine
    from tests.helpers.embedders import HashEmbedder

    server.route("/story", Response(PAGE))
    url = server.url("/story")
    refused = Settings(data_dir=tmp_path / "a", _env_file=None)
    with Engine(refused, embedder=HashEmbedder()) as engine:
        report = engine.ingest([url])
    assert [(s.source, s.kind) for s in report.skipped] == [(url, "refused-address")]
    assert server.connections == []
    allowed = Settings(data_dir=tmp_path / "b", fetch_allow="127.0.0.1", _env_file=None)
    with Engine(allowed, embedder=HashEmbedder()) as engine:
        assert engine.ingest([url]).added == 1


@pytest.mark.parametrize(
    "url",
    ["http://exa mple.com/", "http://ex%41mple.com/", "http://[v1.fe]/", "http://xn--a.com/", "http:///x"],
)
def test_malformed_host_names_are_bad_urls_and_never_looked_up(url: str) -> None:
    lookups: list[str] = []
    network = NoNetwork()
    fetcher = Fetcher(network=network, resolver=lambda host, port: lookups.append(host) or [])
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == "bad-url"
    assert caught.value.reason.startswith("invalid URL (")
    assert (lookups, network.attempts) == ([], [])


def test_a_redirect_to_a_name_that_does_not_resolve_names_that_name(server: LocalServer) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    url = server.route("/moved", Response(status=302, headers={"Location": "http://gone.example/story"}))
    with Fetcher(allow=["127.0.0.1"], resolver=resolver) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.reason == "could not resolve host name 'gone.example'"
