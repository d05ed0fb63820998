"""The httpx and httpcore internals `_GuardedTransport` (fetch/client.py) relies on to put the SSRF guard under
every connection, so a release that moves them fails here rather than letting requests bypass the guard.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import ssl
from typing import Any

import httpcore
import httpx
import pytest

from broadsheet.errors import UnsafeURLError
from broadsheet.fetch.client import _GuardedTransport
from broadsheet.fetch.guard import GuardedBackend
from locked import TEST_LOCK, internal_changed, read_lock
from publisher import Publisher

# The releases whose source the uses below were read against; the lock must pin them (first test).
CHECKED_AGAINST = {"httpx": "0.28.1", "httpcore": "1.0.9"}
USER = "fetch/client.py (_GuardedTransport)"
LIMITS = httpx.Limits(max_connections=7, max_keepalive_connections=5, keepalive_expiry=30.0)


def changed(package: str, what: str) -> str:
    return internal_changed(package, CHECKED_AGAINST[package], USER, what)


def ssl_settings(context: ssl.SSLContext) -> tuple[Any, ...]:
    return (
        context.verify_mode,
        context.check_hostname,
        context.options,
        context.minimum_version,
        context.maximum_version,
        context.cert_store_stats(),
    )


@pytest.mark.parametrize("package", sorted(CHECKED_AGAINST))
def test_the_lock_pins_the_releases_these_internals_were_checked_against(package: str) -> None:
    locked = read_lock(TEST_LOCK)[package].version
    checked = CHECKED_AGAINST[package]
    assert locked == checked, (
        f"{TEST_LOCK.name} pins {package}=={locked}, but {USER} replaces httpx's private connection pool as "
        f"{package} {checked} builds it. Read every use in this file against {locked}'s source, run "
        f"tests/fetch/, then set CHECKED_AGAINST[{package!r}] = {locked!r}; or keep {checked}: "
        f"make lock LOCK_ARGS='-P {package}=={checked}'"
    )


def test_httpx_keeps_a_transports_whole_state_in_one_plain_pool() -> None:
    transport = httpx.AsyncHTTPTransport(limits=LIMITS, trust_env=False)
    assert set(vars(transport)) == {"_pool"}, changed(
        "httpx",
        f"AsyncHTTPTransport's state is {sorted(vars(transport))}, not `_pool` alone: replacing `_pool` may "
        "leave the transport with state that no longer matches it",
    )
    pool = transport._pool
    assert type(pool) is httpcore.AsyncConnectionPool, changed(
        "httpx", f"AsyncHTTPTransport._pool is a {type(pool).__name__}, not an httpcore.AsyncConnectionPool"
    )


def test_the_pool_takes_the_arguments_the_guarded_transport_passes() -> None:
    wanted = [
        "ssl_context",
        "max_connections",
        "max_keepalive_connections",
        "keepalive_expiry",
        "network_backend",
    ]
    accepted = inspect.signature(httpcore.AsyncConnectionPool).parameters
    missing = [name for name in wanted if name not in accepted]
    assert not missing, changed("httpcore", f"AsyncConnectionPool no longer takes {missing}")
    assert "trust_env" in inspect.signature(httpx.create_ssl_context).parameters, changed(
        "httpx", "create_ssl_context no longer takes trust_env"
    )


def test_the_guarded_pool_is_the_one_httpx_builds_but_for_the_network_backend() -> None:
    # Whatever httpx passes to its pool and the guarded transport does not (HTTP/2, retries, a local
    # address, ...) must still come out the same.
    pools = [
        getattr(transport, "_pool", None)
        for transport in (
            httpx.AsyncHTTPTransport(limits=LIMITS, trust_env=False),
            _GuardedTransport(GuardedBackend(), LIMITS),
        )
    ]
    assert all(isinstance(pool, httpcore.AsyncConnectionPool) for pool in pools), changed(
        "httpx", f"AsyncHTTPTransport._pool is {pools[0]!r}, not an httpcore.AsyncConnectionPool"
    )
    theirs, ours = vars(pools[0]), vars(pools[1])
    assert set(ours) == set(theirs), changed(
        "httpcore", f"the pools differ in attributes: {sorted(set(ours) ^ set(theirs))}"
    )
    assert isinstance(ours.pop("_network_backend", None), GuardedBackend), changed(
        "httpcore", "AsyncConnectionPool keeps its network backend somewhere other than `_network_backend`"
    )
    theirs.pop("_network_backend")
    differ = []
    for name, value in theirs.items():
        mine = ours[name]
        if isinstance(value, ssl.SSLContext) and isinstance(mine, ssl.SSLContext):
            same = ssl_settings(value) == ssl_settings(mine)
        else:  # objects that compare by identity (a lock) only have to be of the same kind
            same = value == mine or (
                type(value) is type(mine) and type(value).__eq__ is vars(object)["__eq__"]
            )
        if not same:
            differ.append(f"{name}: httpx has {value!r}, the guarded pool {mine!r}")
    assert not differ, changed("httpx", "its pool is configured otherwise now: " + "; ".join(differ))


def test_guarded_backend_has_the_signatures_of_httpcores_network_backend() -> None:
    for method in ("connect_tcp", "connect_unix_socket", "sleep"):
        expected = list(inspect.signature(getattr(httpcore.AsyncNetworkBackend, method)).parameters)
        got = list(inspect.signature(getattr(GuardedBackend, method)).parameters)
        assert got == expected, changed(
            "httpcore",
            f"AsyncNetworkBackend.{method} takes {expected}; fetch/guard.py's GuardedBackend takes {got}",
        )


def test_requests_on_the_guarded_transport_connect_through_the_guard(publisher: Publisher) -> None:
    publisher.add("/", "a page the guard must keep us from")
    backend = GuardedBackend([(ipaddress.ip_network("127.0.0.1/32"), "test-private")])

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=_GuardedTransport(backend, LIMITS)) as client:
            return await client.get(f"http://localhost:{publisher.port}/")

    try:
        answer = asyncio.run(get())
    except UnsafeURLError:
        pass
    else:
        what = f"a request reached a blocked address (status {answer.status_code}): httpx no longer sends through"
        pytest.fail(changed("httpx", f"{what} `_pool`, so the guarded pool is never used"))
    assert publisher.requests == []
