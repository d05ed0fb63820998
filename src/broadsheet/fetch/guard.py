"""The SSRF guard: which addresses broadsheet refuses to reach, checked on the URL and again at connect time.

`blocked_reason` is the pure classifier; `check_url` vets a URL before any request; `GuardedBackend` vets the
addresses a host name resolves to at the moment of connecting, so DNS rebinding cannot slip between the two.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import httpcore
import httpx

from broadsheet.errors import UnsafeURLError

__all__ = ["BLOCKED_NETWORKS", "GuardedBackend", "IPAddress", "IPNetwork", "blocked_reason", "check_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HINT = "set BROADSHEET_ALLOW_PRIVATE_NETWORKS=true to fetch intranet sources"

#: (network, what it is) — every range that is not the public internet, first match wins. IPv6 forms that
#: embed an IPv4 address and route to it on the internet (mapped, 6to4, well-known NAT64) are unwrapped by
#: `blocked_reason` and judged by the embedded address; the other embeddings (IPv4-compatible, IPv4-translated,
#: local-use NAT64, Teredo) never name a public web server, so their whole ranges are refused.
BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in [
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("::ffff:0:0:0/96", "IPv4-translated (SIIT)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard"),
        ("2001::/32", "Teredo tunnel"),
        ("2001::/23", "IETF protocol assignment"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing (SRv6)"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ]
)

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(
    address: IPAddress | str, blocked: Sequence[tuple[IPNetwork, str]] = BLOCKED_NETWORKS
) -> str | None:
    """Why `address` must not be reached ("loopback", "private", ...), or None when it is public.

    Raises ValueError when `address` is not an IP address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:  # "fe80::1%eth0": a zone only makes sense on a local link
            return "scoped (link-local)"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = blocked_reason(inner, blocked)
            return f"{reason}, embedded in IPv6" if reason else None
    for network, why in blocked:
        if ip.version == network.version and ip in network:
            return why
    return None


def check_url(url: httpx.URL, *, allow_private: bool, blocked: Sequence[tuple[IPNetwork, str]]) -> None:
    """Refuse, before any request, a URL that is not http(s), carries credentials, or names a blocked IP."""
    if url.scheme not in ("http", "https"):
        raise UnsafeURLError(
            f"{url}: only http and https URLs are fetched, not {url.scheme or 'a relative URL'}", str(url)
        )
    if not url.host:
        raise UnsafeURLError(f"{url}: the URL has no host; give a full http(s) address", str(url))
    if url.userinfo:
        raise UnsafeURLError(
            f"{url}: URLs with a user name or password are refused so credentials never leak into logs; "
            "remove them from the URL",
            str(url),
        )
    if allow_private:
        return
    try:
        reason = blocked_reason(url.host, blocked)
    except ValueError:
        return  # a host name: its addresses are vetted by GuardedBackend when connecting
    if reason:
        raise UnsafeURLError(f"{url}: address {url.host} is {reason}; {_HINT}", str(url))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves the host itself, refuses blocked addresses and connects to a vetted IP.

    httpcore still passes the host name for TLS (SNI and certificate checks), so only the TCP target changes.
    A host is refused if any of its addresses is blocked: a public address next to a private one is a
    rebinding trick, not a real deployment.
    """

    def __init__(self, blocked: Sequence[tuple[IPNetwork, str]] = BLOCKED_NETWORKS) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._blocked = blocked

    async def _resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc.strerror}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = blocked_reason(address, self._blocked)
            if reason:
                raise UnsafeURLError(f"{host} resolves to {address}, which is {reason}; {_HINT}")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        started = time.monotonic()
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from exc
        error: httpcore.ConnectError | None = None
        for address in addresses:
            # Resolving and connecting share one connect_timeout, as they would inside httpcore.
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                return await self._inner.connect_tcp(address, port, left, local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the next vetted address, as a browser would
                error = exc
        assert error is not None  # getaddrinfo never returns an empty list without raising
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError(f"unix socket {path}: broadsheet only connects over TCP")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
