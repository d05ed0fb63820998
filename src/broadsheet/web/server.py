"""The HTTP server's own limits: how long a client may take to send a request or leave its answer unread,
how large a request's head may be, how long an idle connection stays, and how many connections one client
address, or all, may hold; one uvicorn Config for every way `broadsheet serve` runs.

What a request's body may carry and who may post are the gate's business (web/gate.py).
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
from starlette.requests import Request
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
# How long a connection closed on a deadline, after a refusal or at shutdown has to hand its client what is
# left to send: closing waits for the client to read it, and one that never reads would hold it for ever.
CLOSE_GRACE_SECONDS = 2.0
LOG_EVERY_SECONDS = 60.0  # refusals are logged as one line per interval, not one per connection
BUSY = b"The server is busy: it has as many connections open as it takes. Try again in a few seconds.\n"
CLIENT_BUSY = (
    b"Too many connections from your address are open at once. Close some, or try again in a few seconds.\n"
)
TIMEOUT = b"The request's body did not arrive in time. Send it again.\n"
HEAD_TOO_LARGE = b"The request's line and headers are too large. Send a shorter address or fewer cookies.\n"


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


def request_client(request: Request) -> str:
    """`client_key` of the client that sent `request`: what lockouts and rate limits count by."""
    return client_key((request.client.host, request.client.port) if request.client else None)


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
        self.send_timeout = settings.send_timeout
        self.max_header_bytes = settings.max_header_bytes
        self.keepalive_timeout = settings.keepalive_timeout
        self.caps = ConnectionCaps(max_connections, settings.max_connections_per_client)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with deadlines on reading a request and on sending its answer, a cap on the
    size of a request's head, and the connection caps.

    A new connection must deliver its first request's headers within header_timeout; a kept-alive one may
    wait keepalive_timeout for its next request, whose headers must then arrive within header_timeout of its
    first byte; a body must arrive within body_timeout of its headers. These deadlines run while the server
    reads: a request queued behind others (pipelined) is timed from its turn. Past a deadline the connection
    is closed (a late body is answered 408 first when nothing else has been answered yet). A request line and
    headers larger than max_header_bytes are answered 431 and the connection closed. A client that leaves
    its answer unread for send_timeout while the server waits for it to read is dropped, and so is a closed
    connection whose client does not take what is left to send.
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
        self.send_timeout = config.send_timeout
        self.max_header_bytes = config.max_header_bytes
        # uvicorn's Config takes whole seconds; its protocol hands the value to call_later, which takes any.
        self.timeout_keep_alive = config.keepalive_timeout  # type: ignore[assignment]
        self.client_key: str | None = None
        self.header_timer: TimerHandle | None = None
        self.body_timer: TimerHandle | None = None
        self.send_timer: TimerHandle | None = None
        self.linger_timer: TimerHandle | None = None
        self.abort_timer: TimerHandle | None = None
        self.reading_head = False  # from a request's first byte to the end of its headers
        self.head_began = False  # ... and that request began in the bytes being parsed now
        self.head_bytes = 0  # at least this much of the head being read has arrived
        self.reading_body = False
        self.discarding = False  # answered 431: what the client still sends is read and dropped
        self.close_grace = math.inf  # once closing: how long the client has to take what is left to send

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
        timers = [self.header_timer, self.body_timer, self.send_timer, self.linger_timer, self.abort_timer]
        for timer in timers:
            if timer is not None:
                timer.cancel()
        self.header_timer = self.body_timer = self.send_timer = self.linger_timer = self.abort_timer = None
        if self.client_key is not None:
            self.caps.leave(self.client_key)
            self.client_key = None
        super().connection_lost(exc)

    def eof_received(self) -> None:
        # The transport closes once this returns; the client may still be reading what it was sent.
        self._abort_unless_gone(self.send_timeout)

    def data_received(self, data: bytes) -> None:
        if self.discarding:
            return
        # Bytes on an idle kept-alive connection start its next request: keep-alive's timer stops (uvicorn),
        # the header deadline starts (here), whether or not the bytes begin a message (blank lines do not).
        if self.timeout_keep_alive_task is not None and self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)
        self.head_began = False
        super().data_received(data)
        if self.transport.is_closing():  # closed while parsing: uvicorn's 400 for a malformed request
            self._abort_unless_gone(CLOSE_GRACE_SECONDS)
            return
        if self.reading_head:
            # httptools has no limit of its own, and uvicorn gathers the address piece by piece. A head that
            # began in these bytes may follow other requests in them: count what the parser has seen of it.
            self.head_bytes = self._head_size() if self.head_began else self.head_bytes + len(data)
            if self.head_bytes > self.max_header_bytes:
                self._refuse_head()
        elif self.reading_body and self.body_timer is None and not self.pipeline:
            # Started after parsing, so that a request read whole in one go never arms it; one queued behind
            # others waits unread, and is timed from its turn (on_response_complete).
            self.body_timer = self.loop.call_later(self.body_timeout, self.body_timed_out)

    def on_message_begin(self) -> None:
        if self.discarding:
            return
        super().on_message_begin()
        self.reading_head = self.head_began = True
        self.head_bytes = 0
        # A request pipelined behind one being answered. While earlier ones queue, the server reads nothing
        # more, and this one's deadline starts with its turn (on_response_complete).
        if self.header_timer is None and not self.flow.read_paused:
            self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)

    def on_headers_complete(self) -> None:
        if self.discarding:
            return
        self.reading_head = False
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        if max(self.head_bytes, self._head_size()) > self.max_header_bytes:
            self._refuse_head()
            return
        self.reading_body = True
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.discarding:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.discarding:
            return
        self.reading_body = False
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():  # the answer closed the connection (Connection: close)
            self._abort_unless_gone(self.send_timeout)
            return
        # Reading resumes, and the request queued next, if any, is answered now: its deadlines start.
        if self.reading_head and self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self.header_timed_out)
        if self.reading_body and self.body_timer is None and not self.pipeline:
            self.body_timer = self.loop.call_later(self.body_timeout, self.body_timed_out)

    def pause_writing(self) -> None:
        super().pause_writing()
        # The client is not taking what it is sent as fast as it comes: it has send_timeout to catch up.
        if self.abort_timer is not None:
            self.abort_timer.cancel()
            self.abort_timer = None
        if self.send_timer is None:
            self.send_timer = self.loop.call_later(self.send_timeout, self.send_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.send_timer is not None:
            self.send_timer.cancel()
            self.send_timer = None
        if self.transport.is_closing():
            self._arm_abort()

    def shutdown(self) -> None:
        # A stopping server waits for every connection to close: each client gets only a short grace to take
        # what it is sent, so that one that reads slowly or not at all cannot hold the process.
        self.send_timeout = min(self.send_timeout, CLOSE_GRACE_SECONDS)
        timer = self.send_timer
        if timer is not None and timer.when() > self.loop.time() + self.send_timeout:
            timer.cancel()
            self.send_timer = self.loop.call_later(self.send_timeout, self.send_timed_out)
        super().shutdown()
        if self.transport.is_closing():
            self._abort_unless_gone(CLOSE_GRACE_SECONDS)

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            self._close(self.send_timeout)  # the client may still be reading its last answer

    def header_timed_out(self) -> None:
        self.header_timer = None
        self._close(CLOSE_GRACE_SECONDS)

    def body_timed_out(self) -> None:
        self.body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            # The app waiting for the body hears that the client has gone, and whatever it answers is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.write(
                _response(b"408 Request Timeout", TIMEOUT, [], self.server_state.default_headers)
            )
        self._close(CLOSE_GRACE_SECONDS)

    def send_timed_out(self) -> None:
        self.send_timer = None
        self.transport.abort()

    def _refuse_head(self) -> None:
        """Answer 431 to a request whose line and headers are past max_header_bytes; read no more requests."""
        self.discarding = True
        self.reading_head = False
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # An earlier request is still being answered, and a 431 now would land inside its answer.
            self._close(CLOSE_GRACE_SECONDS)
            return
        dated = self.server_state.default_headers
        self.transport.write(_response(b"431 Request Header Fields Too Large", HEAD_TOO_LARGE, [], dated))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        # What the client still sends is read and dropped for a while, as for a refused connection.
        self.linger_timer = self.loop.call_later(LINGER_SECONDS, self._close, CLOSE_GRACE_SECONDS)

    def _head_size(self) -> int:
        """The fewest bytes the request line and headers parsed so far can have taken."""
        return len(self.url) + sum(len(name) + len(value) + 3 for name, value in self.headers)  # "n:v\r\n"

    def _close(self, grace: float) -> None:
        self.transport.close()
        self._abort_unless_gone(grace)

    def _abort_unless_gone(self, grace: float) -> None:
        """Drop the connection unless its client takes what is left to send within `grace`: from now, or,
        while the server waits for the client to read (when send_timeout runs), from when it has caught up."""
        self.close_grace = min(self.close_grace, grace)
        if not self.flow.write_paused:
            self._arm_abort()

    def _arm_abort(self) -> None:
        deadline = self.loop.time() + self.close_grace
        if self.abort_timer is not None:
            if self.abort_timer.when() <= deadline:
                return
            self.abort_timer.cancel()
        self.abort_timer = self.loop.call_at(deadline, self.transport.abort)


class Refusal(asyncio.Protocol):
    """A connection past a cap: answered 503 at once, its request read and dropped, closed soon after (and
    dropped if its client does not take the answer)."""

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
        self.transport = transport
        self.loop = loop
        self.timer = loop.call_later(LINGER_SECONDS, self.close)

    def close(self) -> None:
        self.transport.close()
        self.timer = self.loop.call_later(CLOSE_GRACE_SECONDS, self.transport.abort)

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
