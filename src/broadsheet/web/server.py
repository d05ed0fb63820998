"""The HTTP server's own limits: how long a client may take to send a request, how long an idle connection
stays, and how many connections one client address, or all, may hold; one uvicorn Config for every way
`broadsheet serve` runs.

What a request may carry (body sizes, who may post) is the app's business (web/app.py and its routes).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import resource
import time
from asyncio import TimerHandle, Transport
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from broadsheet.config import Settings

__all__ = ["GuardedProtocol", "ServerConfig", "raise_file_limit", "server_config"]

log = logging.getLogger(__name__)

# Open files a serving process needs besides its connections: database and its journal per pooled connection,
# templates, logs, the crawler's sockets when it runs inside the server.
FILES_RESERVED = 256
RETRY_AFTER_SECONDS = 5  # places free up as kept-alive connections idle out (keepalive_timeout)
# How long a refused connection is read and dropped after its 503: closing a socket with a request still
# unread makes the kernel reset the connection, and the client would see a reset instead of the answer.
LINGER_SECONDS = 2.0
LOG_EVERY_SECONDS = 60.0  # refusals are logged as one line per interval, not one per connection
BUSY = b"The server is busy: it has as many connections open as it takes. Try again in a few seconds.\n"
CLIENT_BUSY = (
    b"Too many connections from your address are open at once. Close some, or try again in a few seconds.\n"
)
TIMEOUT = b"The request's body did not arrive in time. Send it again.\n"


def _response(
    status: bytes, body: bytes, extra: list[tuple[bytes, bytes]], dated: list[tuple[bytes, bytes]]
) -> bytes:
    headers = [
        *dated,
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *extra,
        (b"connection", b"close"),
    ]
    return b"".join(
        [b"HTTP/1.1 ", status, b"\r\n", *(n + b": " + v + b"\r\n" for n, v in headers), b"\r\n", body]
    )


def client_key(peer: Any) -> str:
    """The address that connections are counted by: an IPv4 address as it is (also when mapped into IPv6),
    an IPv6 address by its /64, since one machine commonly holds a whole /64 and can pick any address in it."""
    if not isinstance(peer, tuple) or not peer:
        return "local"  # a Unix socket: one local client
    host = str(peer[0])
    if ":" not in host:
        return host
    address = ipaddress.IPv6Address(host.split("%", 1)[0])
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return f"{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"


class ConnectionCaps:
    """Connections open per client address in one server process, and who is refused past the caps."""

    def __init__(self, max_connections: int, max_per_client: int) -> None:
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.open: dict[str, int] = {}
        self._refused = {BUSY: 0, CLIENT_BUSY: 0}
        self._logged_at = -math.inf

    def admit(self, key: str, open_now: int) -> bytes | None:
        """Count a new connection from `key` in, or return the body of the 503 that refuses it."""
        if open_now >= self.max_connections:
            return self._refuse(BUSY)
        held = self.open.get(key, 0)
        if self.max_per_client and held >= self.max_per_client:
            return self._refuse(CLIENT_BUSY)
        self.open[key] = held + 1
        return None

    def leave(self, key: str) -> None:
        held = self.open.pop(key) - 1
        if held:
            self.open[key] = held

    def _refuse(self, body: bytes) -> bytes:
        self._refused[body] += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            log.warning(
                "refused connections with 503 since the last report: %d because this process held "
                "max_connections = %d, %d because their address held max_connections_per_client = %d; if real "
                "readers are refused, raise these (behind a reverse proxy, set max_connections_per_client = 0)",
                self._refused[BUSY], self.max_connections, self._refused[CLIENT_BUSY], self.max_per_client,
            )  # fmt: skip
            self._refused = dict.fromkeys(self._refused, 0)
            self._logged_at = now
        return body


class ServerConfig(uvicorn.Config):
    """uvicorn's Config with broadsheet's limits on connections; `caps` counts this server's connections."""

    def __init__(self, app: Any, *, settings: Settings, max_connections: int, **kwargs: Any) -> None:
        super().__init__(app, http=GuardedProtocol, ws="none", **kwargs)
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout
        self.keepalive_timeout = settings.keepalive_timeout
        self.caps = ConnectionCaps(max_connections, settings.max_connections_per_client)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with deadlines on reading a request, and the connection caps.

    A new connection must deliver its first request's headers within header_timeout; a kept-alive one may
    wait keepalive_timeout for its next request, whose headers must then arrive within header_timeout of its
    first byte; a body must arrive within body_timeout of its headers. Past a deadline the connection is
    closed (a late body is answered 408 first when nothing else has been answered yet).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(config, ServerConfig):
            raise TypeError(
                "GuardedProtocol needs a ServerConfig: build it with broadsheet.web.server.server_config"
            )
        super().__init__(config, server_state, app_state, _loop)
        self.caps = config.caps
        self.header_timeout = config.header_timeout
        self.body_timeout = config.body_timeout
        # uvicorn's Config takes whole seconds; its protocol hands the value to call_later, which takes any.
        self.timeout_keep_alive = config.keepalive_timeout  # type: ignore[assignment]
        self.client_key: str | None = None
        self.header_timer: TimerHandle | None = None
        self.body_timer: TimerHandle | None = None
        self.reading_body = False

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        key = client_key(transport.get_extra_info("peername"))
        refusal = self.caps.admit(key, len(self.connections))
        if refusal is not None:
            transport.set_protocol(Refusal(transport, self.loop, refusal, self.server_state.default_headers))
            return
        self.client_key = key
        super().connection_made(transport)
        self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self.client_key is not None:
            self.caps.leave(self.client_key)
            self.client_key = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Bytes on an idle kept-alive connection start its next request: keep-alive's timer stops (uvicorn),
        # the header deadline starts (here), whether or not the bytes begin a message (blank lines do not).
        if self.timeout_keep_alive_task is not None and self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)
        super().data_received(data)
        # Started after parsing, so that a request without a body (read whole in one go) never arms it.
        if self.reading_body and self.body_timer is None:
            self.body_timer = self.loop.call_later(self.body_timeout, self.body_timed_out)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_timer is None:  # a pipelined request, sent while the one before is answered
            self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)

    def on_headers_complete(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        self.reading_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.reading_body = False
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        super().on_message_complete()

    def header_timed_out(self) -> None:
        self.header_timer = None
        self.transport.close()

    def body_timed_out(self) -> None:
        self.body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        # A queued (pipelined) request's answer would land inside the one being sent: then only close.
        if cycle is not None and not cycle.response_started and not self.pipeline:
            # The app waiting for the body hears that the client has gone, and whatever it answers is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.write(
                _response(b"408 Request Timeout", TIMEOUT, [], self.server_state.default_headers)
            )
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self.header_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.header_timer = self.body_timer = None


class Refusal(asyncio.Protocol):
    """A connection past a cap: answered 503 at once, its request read and dropped, closed soon after."""

    def __init__(
        self,
        transport: Transport,
        loop: asyncio.AbstractEventLoop,
        body: bytes,
        dated: list[tuple[bytes, bytes]],
    ) -> None:
        retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
        transport.write(_response(b"503 Service Unavailable", body, retry, dated))
        if transport.can_write_eof():
            transport.write_eof()
        self.timer = loop.call_later(LINGER_SECONDS, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> None:
        return None  # both directions are done: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()


def raise_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit, so that the connection cap, not the
    file limit, decides who is refused; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:  # e.g. macOS caps it below an "unlimited" hard limit
            log.warning(
                "could not raise the open-file limit from %d to %d (%s); it stays %d", soft, wanted, exc, soft
            )
    return int(soft) if soft != resource.RLIM_INFINITY else 1 << 30


def connection_room(settings: Settings, file_limit: int) -> int:
    """max_connections, or less where the process may not open that many files besides what it needs."""
    room = max(file_limit - FILES_RESERVED, file_limit // 2)
    if settings.max_connections <= room:
        return settings.max_connections
    log.warning(
        "max_connections is %d but this process may open only %d files (%d kept for the database and logs): "
        "it holds at most %d connections; raise the limit (`ulimit -n`, or LimitNOFILE= in a systemd unit) to "
        "allow more",
        settings.max_connections, file_limit, file_limit - room, room,
    )  # fmt: skip
    return room


def server_config(app: Any, settings: Settings, **kwargs: Any) -> ServerConfig:
    """The uvicorn Config serving `app` (an app, or "module:factory" with factory=True) under `settings`'
    limits; `kwargs` go to uvicorn.Config (host, port, log_level, workers ...)."""
    room = connection_room(settings, raise_file_limit())
    return ServerConfig(app, settings=settings, max_connections=room, server_header=False, **kwargs)


def run(config: ServerConfig, sockets: list[Any] | None = None) -> bool:
    """Serve `config` in this process until SIGINT or SIGTERM; False when the server failed to start."""
    server = uvicorn.Server(config)
    # uvicorn raises the stopping signal again once it has stopped; uvicorn.run swallows it the same way.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    return bool(server.started)
