"""The SSRF guard: the pure address classifier, URL checks, and refusals at connect time via the Fetcher."""

from __future__ import annotations

import ipaddress

import pytest
from fetch_helpers import fetch, with_fetcher

from broadsheet.config import Settings
from broadsheet.errors import UnsafeURLError
from broadsheet.fetch import Fetcher
from broadsheet.fetch.guard import blocked_reason
from publisher import Publisher


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fc00::1", "unique local (private)"),
        ("fd12:3456::1", "unique local (private)"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "scoped (link-local)"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback, embedded in IPv6"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata), embedded in IPv6"),
        ("2002:0a00:0001::1", "private, embedded in IPv6"),  # 6to4 of 10.0.0.1
        ("64:ff9b::192.168.0.1", "private, embedded in IPv6"),  # NAT64
        ("2001:db8::1", "documentation"),
        # IPv6 transition forms: those that embed an IPv4 address and reach it across the internet are judged
        # by that address; the others are refused whatever they embed.
        ("2002:a9fe:a9fe::1", "link-local (cloud metadata), embedded in IPv6"),  # 6to4 of 169.254.169.254
        ("2002:7f00:1::", "loopback, embedded in IPv6"),  # 6to4 of 127.0.0.1
        ("64:ff9b::7f00:1", "loopback, embedded in IPv6"),  # well-known NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata), embedded in IPv6"),
        ("64:ff9b:1::a00:1", "local-use NAT64"),  # RFC 8215: translated inside one network only
        ("64:ff9b:1:ffff::808:808", "local-use NAT64"),
        ("::ffff:0:7f00:1", "IPv4-translated (SIIT)"),  # RFC 2765's ::ffff:0:a.b.c.d
        ("::ffff:0:808:808", "IPv4-translated (SIIT)"),
        ("::7f00:1", "IPv4-compatible (deprecated)"),
        ("::808:808", "IPv4-compatible (deprecated)"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo tunnel"),  # 2001::/32, obfuscated client address
        ("2001:2::1", "IETF protocol assignment"),  # benchmarking
        ("3fff::1", "documentation"),
        ("5f00::1", "segment routing (SRv6)"),
    ],
)
def test_non_public_addresses_are_blocked(address: str, reason: str) -> None:
    assert blocked_reason(address) == reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "100.128.0.1",
        "2002:808:808::1",  # 6to4 of a public address
        "64:ff9b::808:808",  # well-known NAT64 of a public address: how IPv6-only networks reach IPv4 sites
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_reason(address) is None
    assert blocked_reason(ipaddress.ip_address(address.split("%")[0])) is None


def test_classifier_rejects_non_addresses() -> None:
    with pytest.raises(ValueError):
        blocked_reason("example.com")


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_networks": False, "retries": 0})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433"])
def test_loopback_url_is_refused_before_any_request(
    publisher: Publisher, strict: Settings, host: str
) -> None:
    publisher.add("/secret", "internal")

    with pytest.raises(UnsafeURLError, match="BROADSHEET_ALLOW_PRIVATE_NETWORKS") as caught:
        fetch(strict, f"http://{host}:{publisher.port}/secret")

    assert "loopback" in str(caught.value)
    assert caught.value.url == f"http://{host}:{publisher.port}/secret"
    assert publisher.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
        "http://0.0.0.0:80/",
        "http://[64:ff9b:1::7f00:1]/",
        "http://[::ffff:0:7f00:1]/",
        "http://[::7f00:1]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    ],
)
def test_private_ip_literals_are_refused_up_front(strict: Settings, url: str) -> None:
    with pytest.raises(UnsafeURLError, match="address"):
        fetch(strict, url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed.xml", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@example.com/", "password"),
        ("http:///nohost", "no host"),
    ],
)
def test_unfetchable_urls_are_refused_with_a_reason(settings: Settings, url: str, message: str) -> None:
    with pytest.raises(UnsafeURLError, match=message):
        fetch(settings, url)


def test_redirect_from_an_allowed_host_to_a_blocked_one_is_refused(
    publisher: Publisher, publisher2: Publisher, strict: Settings
) -> None:
    # Only 127.0.0.2 counts as private here, so the publisher on 127.0.0.1 stands in for a public site.
    publisher.redirect("/jump", publisher2.url("/internal"))
    publisher2.add("/internal", "secret")

    async def go(fetcher: Fetcher) -> None:
        await fetcher.fetch(publisher.url("/jump"))

    with pytest.raises(UnsafeURLError, match=r"redirect from .* refused.*127\.0\.0\.2 is test-private"):
        with_fetcher(strict, go, blocked_networks=[("127.0.0.2/32", "test-private")])

    assert publisher.hits("/jump") == 1
    assert publisher2.requests == []


def test_host_name_resolving_to_an_allowed_address_is_fetched_through_the_guard(
    publisher: Publisher, strict: Settings
) -> None:
    publisher.add("/ok", "fine")

    async def go(fetcher: Fetcher) -> bytes:
        return (await fetcher.fetch(f"http://localhost:{publisher.port}/ok")).content

    assert with_fetcher(strict, go, blocked_networks=[("127.0.0.2/32", "test-private")]) == b"fine"
    assert publisher.requests[0].headers["host"] == f"localhost:{publisher.port}"


def test_host_name_resolving_to_a_blocked_address_is_refused_at_connect_time(
    publisher: Publisher, strict: Settings
) -> None:
    async def go(fetcher: Fetcher) -> None:
        await fetcher.fetch(f"http://localhost:{publisher.port}/")

    with pytest.raises(UnsafeURLError, match=r"localhost resolves to 127\.0\.0\.1, which is test-private"):
        with_fetcher(strict, go, blocked_networks=[("127.0.0.1/32", "test-private")])
    assert publisher.requests == []
