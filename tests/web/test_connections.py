"""The server's limits on connections, over real sockets: deadlines for a request's headers and body, for an
idle kept-alive connection and for a client that leaves its answers unread, the cap on a request's line and
headers, the caps on connections per client address and per process, pipelining, the count of open
connections after every way one ends, and readers still served beside clients that hold connections open."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from website import Answer, exchange, free_port, read_answer, serving

from broadsheet.config import Settings
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.web.server import ConnectionCaps, server_config

# The deadlines under test are set to about a second; a connection must be gone well within this.
GONE_WITHIN = 10.0
SLOW_SECONDS = 2.0  # how long _app takes over /slow: longer than the deadlines under test
BIG = 8_000_000  # the bytes of _app's /big: far more than the kernel's socket buffers take in
# The bytes of _app's /medium: more than the kernel takes in from a server whose SO_SNDBUF is 4096 for a
# client whose SO_RCVBUF is 1024 (a few KB), less than the server's transport holds before it waits for the
# client to read (64 KiB, uvloop's and asyncio's default).
MEDIUM = 40_000


@dataclass
class Served:
    port: int
    caps: ConnectionCaps  # the server's count of open connections per client address


@contextlib.contextmanager
def guarded(app: Any, settings: Settings, lifespan: str = "on", sndbuf: int = 0) -> Iterator[Served]:
    """`app` served as `broadsheet serve` serves it (server_config), in a thread on a free loopback port;
    with `sndbuf`, the kernel holds at most about that much of what is sent on each connection."""
    with socket.socket() as listener:
        if sndbuf:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)  # accepted sockets inherit it
        listener.bind(("127.0.0.1", 0))
        port = int(listener.getsockname()[1])
        config = server_config(app, settings, port=port, log_level="warning", lifespan=lifespan)
        with serving(config, listener):
            yield Served(port, config.caps)


@contextlib.contextmanager
def site(tmp_path: Path, **limits: Any) -> Iterator[Served]:
    """broadsheet's own app over an empty database, with `limits` (Settings fields) in force."""
    settings = Settings(home=tmp_path, crawl_in_server=False, **limits)
    store = Store.open(settings.database)
    try:
        with guarded(create_app(settings, store=store), settings) as served:
            yield served
    finally:
        store.close()


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads a POST's body whole, then answers "METHOD PATH BODY-LENGTH"; /slow answers after SLOW_SECONDS,
    /big and /medium with BIG and MEDIUM bytes in one piece. Other methods' bodies are never asked for, as
    broadsheet's GET routes never ask: an app that asks makes uvicorn read on, past requests queued behind."""
    assert scope["type"] == "http"
    size = 0
    while scope["method"] == "POST":
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(SLOW_SECONDS)
    sizes = {"/big": BIG, "/medium": MEDIUM}
    path = scope["path"]
    body = b"x" * sizes[path] if path in sizes else f"{scope['method']} {path} {size}".encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def echoing(tmp_path: Path, sndbuf: int = 0, **limits: Any) -> Iterator[Served]:
    """`_app` served with `limits` (Settings fields) in force."""
    with guarded(_app, Settings(home=tmp_path, **limits), lifespan="off", sndbuf=sndbuf) as served:
        yield served


def ask(path: str, method: str = "GET", extra: bytes = b"") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n".encode() + extra + b"\r\n"


GET = ask("/healthz")


def connect(port: int, source: str = "127.0.0.1", rcvbuf: int = 0) -> socket.socket:
    """A connection to `port` from `source`; with `rcvbuf`, one whose client takes in at most about that much
    unread (set before connecting: the window is agreed then)."""
    sock = socket.socket()
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(GONE_WITHIN)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    return sock


def closed_by_server(sock: socket.socket, within: float = GONE_WITHIN) -> bool:
    """Whether the server closes `sock` within `within` seconds; what it sends before is read and dropped."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def place_taken(caps: ConnectionCaps) -> bool:
    """Whether the server counts an open connection within a few seconds (it counts one once it accepts it,
    a moment after the client has connected)."""
    deadline = time.monotonic() + 5.0
    while not caps.open and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(caps.open)


def places_given_back(caps: ConnectionCaps, within: float = GONE_WITHIN) -> bool:
    """Whether the server counts no open connection within `within` seconds: every one that ended was
    counted out. Reads nothing from any connection."""
    deadline = time.monotonic() + within
    while caps.open and time.monotonic() < deadline:
        time.sleep(0.05)
    return not caps.open


def trickle(sock: socket.socket, piece: bytes) -> float | None:
    """Send `piece` every 0.2 s, as a slowloris client does, until the server closes `sock`: the seconds that
    took, or None when it was still open after GONE_WITHIN."""
    started = time.monotonic()
    while time.monotonic() - started < GONE_WITHIN:
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
        if closed_by_server(sock, within=0.2):
            return time.monotonic() - started
    return None


def reader_served(port: int, source: str = "127.0.0.1") -> bool:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def reader_served_quietly(port: int) -> bool:
    try:
        return reader_served(port)
    except httpx.TransportError:
        return False


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=1.0) as served, connect(served.port) as idle:
        started = time.monotonic()
        assert reader_served(served.port)
        assert closed_by_server(idle)
        assert time.monotonic() - started >= 0.9  # not before its deadline


@pytest.mark.parametrize(
    "start",
    [b"GET /heal", b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"],
    ids=["half a request line", "headers without their end"],
)
def test_a_request_whose_headers_trickle_in_is_closed_after_the_header_timeout(
    tmp_path: Path, start: bytes
) -> None:
    with site(tmp_path, header_timeout=1.0) as served, connect(served.port) as slow:
        slow.sendall(start)
        # Bytes keep arriving, yet the deadline is for the whole header.
        took = trickle(slow, b"X-Slow: a\r\n" if start.endswith(b"\n") else b"z")
        assert took is not None
        assert reader_served(served.port)


def test_the_next_request_on_a_kept_alive_connection_has_the_same_header_deadline(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=1.0, keepalive_timeout=30.0) as served, connect(served.port) as conn:
        conn.sendall(GET)
        assert read_answer(conn).status == 200
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert trickle(conn, b"X-Slow: a\r\n") is not None


def test_blank_lines_do_not_keep_an_idle_connection_open(tmp_path: Path) -> None:
    # Blank lines between requests are allowed and begin no request, yet they are bytes, and bytes stop the
    # idle timer: they must start the header deadline instead.
    with site(tmp_path, header_timeout=1.0, keepalive_timeout=30.0) as served, connect(served.port) as conn:
        conn.sendall(GET)
        assert read_answer(conn).status == 200
        assert trickle(conn, b"\r\n") is not None


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=60.0, keepalive_timeout=0.5) as served, connect(served.port) as conn:
        for _ in range(2):  # served while it is used
            conn.sendall(GET)
            assert read_answer(conn).status == 200
        started = time.monotonic()
        assert closed_by_server(conn)
        # Well before uvicorn's own default of 5 s: the setting is what decides.
        assert time.monotonic() - started < 4.0


def test_pipelined_requests_are_answered_in_order_on_a_connection_kept_alive(tmp_path: Path) -> None:
    with echoing(tmp_path) as served, connect(served.port) as conn:
        # The first takes a while, so the others queue behind it.
        post = ask("/d", "POST", b"Content-Length: 5\r\n") + b"hello"
        conn.sendall(ask("/slow") + ask("/a") + ask("/b", "HEAD") + post + ask("/e"))
        methods = ["GET", "GET", "HEAD", "POST", "GET"]
        answers = [read_answer(conn, method) for method in methods]
        assert [answer.body for answer in answers] == [
            b"GET /slow 0",
            b"GET /a 0",
            b"",
            b"POST /d 5",
            b"GET /e 0",
        ]
        assert answers[2].headers["content-length"] == str(len("HEAD /b 0"))
        assert all("connection" not in answer.headers for answer in answers)
        conn.sendall(ask("/f"))  # and the connection goes on serving
        assert read_answer(conn).body == b"GET /f 0"
    with site(tmp_path) as served, connect(served.port) as conn:  # broadsheet's own app, the same
        conn.sendall(GET + ask("/", "HEAD") + GET)
        assert [read_answer(conn, method).status for method in ("GET", "HEAD", "GET")] == [200, 200, 200]


@pytest.mark.parametrize(
    ("queued", "rest", "last"),
    [
        (ask("/b", "POST", b"Content-Length: 10\r\n") + b"12345", b"67890", b"POST /b 10"),
        (b"GET /b HTTP/1.1\r\nHo", b"st: localhost\r\n\r\n", b"GET /b 0"),
    ],
    ids=["its body", "its headers"],
)
def test_a_request_queued_behind_a_slow_one_is_timed_from_its_turn(
    tmp_path: Path, queued: bytes, rest: bytes, last: bytes
) -> None:
    # While requests queue, the server reads nothing more: the rest of the last one waits unread meanwhile,
    # longer than its deadline, through no fault of the client's.
    with echoing(tmp_path, header_timeout=1.0, body_timeout=1.0) as served, connect(served.port) as conn:
        conn.sendall(ask("/slow") + ask("/a") + queued)
        time.sleep(0.2)
        conn.sendall(rest)
        assert [read_answer(conn).body for _ in range(3)] == [b"GET /slow 0", b"GET /a 0", last]


def test_a_body_that_stops_arriving_is_answered_408_and_closed(tmp_path: Path) -> None:
    with echoing(tmp_path, body_timeout=1.0, header_timeout=30.0) as served, connect(served.port) as conn:
        head = ask("/upload", "POST", b"Content-Length: 1000\r\n")
        conn.sendall(head + b"a" * 100)  # then nothing more
        started = time.monotonic()
        answer = read_answer(conn)
        assert answer.status == 408
        assert answer.headers["connection"] == "close"
        assert closed_by_server(conn)
        assert 0.9 <= time.monotonic() - started < GONE_WITHIN
        # A body that arrives in time, in pieces, is read whole.
        with connect(served.port) as prompt:
            prompt.sendall(head)
            for _ in range(10):
                time.sleep(0.02)
                prompt.sendall(b"b" * 100)
            assert read_answer(prompt).body == b"POST /upload 1000"


def test_a_slow_body_on_a_route_that_answers_at_once_is_closed_after_the_body_timeout(tmp_path: Path) -> None:
    with (
        site(tmp_path, body_timeout=1.0, header_timeout=30.0, keepalive_timeout=30.0) as served,
        connect(served.port) as conn,
    ):
        conn.sendall(b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nabc")
        assert 400 <= read_answer(conn).status < 500  # refused (a GET route) before the body is read
        # The rest of the body trickles in (and every byte would restart an idle timer): the deadline holds.
        assert trickle(conn, b"a") is not None
        assert reader_served(served.port)


@pytest.mark.parametrize(
    ("server", "requests", "limits"),
    [
        (site, [ask("/")] * 3000, {}),
        (echoing, [ask("/big")], {}),
        (echoing, [ask("/big")], {"keepalive_timeout": 0.5}),
    ],
    ids=["many pipelined requests", "one large answer", "one large answer, then the keep-alive timeout"],
)
def test_a_client_that_leaves_its_answers_unread_is_dropped_after_the_send_timeout(
    tmp_path: Path,
    server: Callable[..., contextlib.AbstractContextManager[Served]],
    requests: list[bytes],
    limits: dict[str, float],
) -> None:
    limits = {"send_timeout": 1.0, "header_timeout": 60.0, "keepalive_timeout": 60.0} | limits
    with server(tmp_path, **limits) as served, connect(served.port, rcvbuf=1024) as greedy:
        started = time.monotonic()
        greedy.sendall(b"".join(requests))  # and never reads a byte
        assert place_taken(served.caps)
        assert places_given_back(served.caps)
        assert time.monotonic() - started >= 0.9  # not before its deadline
        assert reader_served(served.port)


def test_a_slow_reader_that_keeps_reading_gets_the_whole_answer(tmp_path: Path) -> None:
    with echoing(tmp_path, send_timeout=1.0) as served, connect(served.port, rcvbuf=65536) as slow:
        slow.sendall(ask("/big"))
        started = time.monotonic()
        answer = read_answer(slow, "HEAD")  # the status and headers only: the body is read below
        # About 4 MB a second, for longer than the send timeout in all, never stalling for long.
        received = 0
        while received < BIG:
            chunk = slow.recv(min(65536, BIG - received))
            assert chunk, f"dropped after {received} of {BIG} bytes"
            received += len(chunk)
            time.sleep(0.01)
        assert answer.status == 200 and time.monotonic() - started > 1.0


@pytest.mark.parametrize(
    ("asked", "then", "limits"),
    [
        (ask("/medium"), b"GET / HTTP/1.1\r\n", {"header_timeout": 1.0, "send_timeout": 60.0}),
        (ask("/medium"), b"", {"keepalive_timeout": 0.5}),
        (ask("/medium", extra=b"Connection: close\r\n"), b"", {}),
        (ask("/medium"), None, {}),
    ],
    ids=[
        "on the next request's header deadline",
        "after the keep-alive timeout",
        "by its answer (Connection: close)",
        "when the client has sent all it will",
    ],
)
def test_a_closed_connection_whose_client_does_not_take_the_rest_of_its_answer_is_dropped(
    tmp_path: Path, asked: bytes, then: bytes | None, limits: dict[str, float]
) -> None:
    # What is left to send fits the server's buffer, so the server is not waiting for the client to read
    # (send_timeout does not run); closing waits for the client to take it.
    limits = {"send_timeout": 1.0, "header_timeout": 60.0, "keepalive_timeout": 60.0} | limits
    with echoing(tmp_path, sndbuf=4096, **limits) as served, connect(served.port, rcvbuf=1024) as greedy:
        greedy.sendall(asked)  # and never reads a byte
        time.sleep(0.2)
        if then is None:
            greedy.shutdown(socket.SHUT_WR)
        else:
            greedy.sendall(then)
        assert place_taken(served.caps)
        assert places_given_back(served.caps)


def test_stopping_the_server_is_not_held_up_by_clients_that_leave_their_answers_unread(
    tmp_path: Path,
) -> None:
    limits = {"send_timeout": 60.0, "header_timeout": 60.0, "keepalive_timeout": 60.0}
    with contextlib.ExitStack() as clients:
        with echoing(tmp_path, sndbuf=4096, **limits) as served:
            # One client waits for a large answer sent whole, one with more to come behind it, and one for
            # an answer that fits the server's buffer.
            for requests in (ask("/big"), ask("/big") * 3, ask("/medium")):
                clients.enter_context(connect(served.port, rcvbuf=1024)).sendall(requests)
            time.sleep(0.5)
            stopping = time.monotonic()
        # `serving` gives up waiting for the server after 10 s.
        assert time.monotonic() - stopping < 6.0
        assert not served.caps.open


@pytest.mark.parametrize(
    "pieces",
    [
        [b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"],
        [b"GET / HTTP/1.1\r\n", *(b"X-Filler-%d: %s\r\n" % (i, b"b" * 500) for i in range(200))],
        [b"GET / HTTP/1.1\r\nCookie: ", *[b"c" * 1000] * 100],
    ],
    ids=["a long request line at once", "many headers in pieces", "one long header in pieces"],
)
def test_a_request_line_and_headers_past_max_header_bytes_are_answered_431(
    tmp_path: Path, pieces: list[bytes]
) -> None:
    # Answered once past the limit, whether or not the headers would ever end; what the client sends after
    # is read and dropped, so that it reads the answer rather than a reset.
    with site(tmp_path, header_timeout=30.0) as served, connect(served.port) as conn:
        for piece in pieces:
            conn.sendall(piece)
            time.sleep(0.002)
        answer = read_answer(conn)
        assert answer.status == 431 and answer.headers["connection"] == "close"
        assert answer.headers["content-type"].startswith("text/plain")
        assert closed_by_server(conn)
        assert reader_served(served.port)


def test_max_header_bytes_sets_how_large_a_head_is_served(tmp_path: Path) -> None:
    with echoing(tmp_path, max_header_bytes=8192) as served:
        assert exchange(served.port, ask("/", extra=b"Cookie: " + b"c" * 7000 + b"\r\n")).status == 200
        assert exchange(served.port, ask("/", extra=b"Cookie: " + b"c" * 9000 + b"\r\n")).status == 431
        assert exchange(served.port, ask("/" + "a" * 9000)).status == 431


def _busy(answer: Answer) -> None:
    assert answer.status == 503
    assert answer.headers["retry-after"].isdigit() and answer.headers["connection"] == "close"
    assert answer.headers["content-type"].startswith("text/plain")


def test_a_client_address_past_its_connection_cap_is_answered_503_while_others_are_served(
    tmp_path: Path,
) -> None:
    with (
        site(tmp_path, header_timeout=60.0, max_connections_per_client=3) as served,
        contextlib.ExitStack() as held,
    ):
        idle = [held.enter_context(connect(served.port)) for _ in range(3)]
        time.sleep(0.2)
        with connect(served.port) as extra:
            extra.sendall(GET)
            answer = read_answer(extra)
            _busy(answer)
            assert b"from your address" in answer.body
            assert closed_by_server(extra)
        with httpx.Client(timeout=10) as client:  # an ordinary client reads the answer, not a reset
            busy = client.get(f"http://127.0.0.1:{served.port}/healthz")
        assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
        assert served.caps.open == {"127.0.0.1": 3}  # the refused were never counted
        assert reader_served(served.port, source="127.0.0.2")  # another address: not its cap
        idle[0].close()
        deadline = time.monotonic() + GONE_WITHIN
        while not reader_served_quietly(served.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reader_served(served.port)  # a place was freed


def test_past_the_servers_connection_cap_every_client_is_answered_503(tmp_path: Path) -> None:
    limits = {"header_timeout": 60.0, "max_connections": 4, "max_connections_per_client": 0}
    with site(tmp_path, **limits) as served, contextlib.ExitStack() as held:
        idle = [held.enter_context(connect(served.port, source=f"127.0.0.{i + 2}")) for i in range(4)]
        time.sleep(0.2)
        for source in ("127.0.0.1", "127.0.0.9"):
            with connect(served.port, source) as extra:
                extra.sendall(GET)
                answer = read_answer(extra)
                _busy(answer)
                assert b"server is busy" in answer.body
        idle[0].close()
        deadline = time.monotonic() + GONE_WITHIN
        while not reader_served_quietly(served.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reader_served(served.port)


# Ways a connection ends, each given the server and somewhere to keep what must stay open until it has.
Ending = Callable[[Served, contextlib.ExitStack], None]


def _hold(served: Served, held: contextlib.ExitStack, rcvbuf: int = 0) -> socket.socket:
    """A connection kept open until the test ends, once the server has counted it."""
    conn = held.enter_context(connect(served.port, rcvbuf=rcvbuf))
    assert place_taken(served.caps)
    return conn


def _sends_nothing(served: Served, held: contextlib.ExitStack) -> None:
    _hold(served, held)


def _sends_half_a_body(served: Served, held: contextlib.ExitStack) -> None:
    conn = held.enter_context(connect(served.port))
    conn.sendall(ask("/", "POST", b"Content-Length: 1000\r\n") + b"a" * 100)
    assert read_answer(conn).status == 408


def _goes_idle(served: Served, held: contextlib.ExitStack) -> None:
    conn = held.enter_context(connect(served.port))
    conn.sendall(ask("/"))
    assert read_answer(conn).status == 200


def _asks_to_close(served: Served, held: contextlib.ExitStack) -> None:
    conn = held.enter_context(connect(served.port))
    conn.sendall(ask("/", extra=b"Connection: close\r\n"))
    assert read_answer(conn).status == 200


def _resets_while_answered(served: Served, held: contextlib.ExitStack) -> None:
    with connect(served.port) as conn:
        conn.sendall(ask("/slow"))
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset


def _closes_mid_request(served: Served, held: contextlib.ExitStack) -> None:
    with connect(served.port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\n")


def _is_refused(served: Served, held: contextlib.ExitStack) -> None:
    _hold(served, held)  # the one connection its address may hold
    with connect(served.port) as extra:
        assert read_answer(extra).status == 503
    assert served.caps.open == {"127.0.0.1": 1}


def _sends_a_malformed_request(served: Served, held: contextlib.ExitStack) -> None:
    conn = held.enter_context(connect(served.port))
    conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    assert read_answer(conn).status == 400


def _sends_too_large_a_head(served: Served, held: contextlib.ExitStack) -> None:
    conn = held.enter_context(connect(served.port))
    conn.sendall(ask("/" + "a" * 10_000))
    assert read_answer(conn).status == 431


def _leaves_its_answer_unread(served: Served, held: contextlib.ExitStack) -> None:
    _hold(served, held, rcvbuf=1024).sendall(ask("/big"))


@pytest.mark.parametrize(
    "ending",
    [
        _sends_nothing,
        _sends_half_a_body,
        _goes_idle,
        _asks_to_close,
        _resets_while_answered,
        _closes_mid_request,
        _is_refused,
        _sends_a_malformed_request,
        _sends_too_large_a_head,
        _leaves_its_answer_unread,
    ],
    ids=lambda ending: ending.__name__.strip("_").replace("_", " "),
)
def test_every_way_a_connection_ends_gives_its_place_back(tmp_path: Path, ending: Ending) -> None:
    limits: dict[str, Any] = {
        "header_timeout": 1.0,
        "body_timeout": 1.0,
        "keepalive_timeout": 0.5,
        "send_timeout": 1.0,
    }
    with (
        echoing(tmp_path, max_header_bytes=4096, max_connections_per_client=1, **limits) as served,
        contextlib.ExitStack() as held,
    ):
        ending(served, held)
        # The client holds on to what it opened: the server ends the connection and counts it out.
        assert places_given_back(served.caps)
        assert reader_served(served.port)  # with room for one connection from its address


def test_readers_are_served_beside_many_idle_and_trickling_connections(tmp_path: Path) -> None:
    limits = {"header_timeout": 1.0, "max_connections": 200, "max_connections_per_client": 40}
    with site(tmp_path, **limits) as served, contextlib.ExitStack() as held:
        idle = [held.enter_context(connect(served.port, f"127.0.1.{i % 4 + 1}")) for i in range(120)]
        slow = [held.enter_context(connect(served.port, f"127.0.2.{i % 2 + 1}")) for i in range(40)]
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(20):
            assert reader_served(served.port)
        assert all(closed_by_server(sock) for sock in idle + slow)
        assert reader_served(served.port)
        assert places_given_back(served.caps)


@pytest.mark.slow
def test_serve_applies_the_limits_in_every_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    env |= {"BROADSHEET_CRAWL_IN_SERVER": "false", "BROADSHEET_HEADER_TIMEOUT": "1"}
    for workers in (1, 2):
        port = free_port()
        command = [sys.executable, "-m", "broadsheet", "--home", str(tmp_path / "home"), "serve", "--port",
                   str(port), "--workers", str(workers)]  # fmt: skip
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 60
            while not reader_served_quietly(port) and time.monotonic() < deadline:
                time.sleep(0.2)
            with contextlib.ExitStack() as held:
                idle = [held.enter_context(connect(port)) for _ in range(4)]  # spread over the workers
                assert all(closed_by_server(sock) for sock in idle)
        finally:
            server.send_signal(signal.SIGTERM)
            _, err = server.communicate(timeout=30)
        assert server.returncode == 0, err


def test_serving_raises_the_open_file_limit_and_caps_connections_below_it(tmp_path: Path) -> None:
    code = (
        "import resource, sys; from broadsheet.config import Settings; "
        "from broadsheet.web.server import server_config; "
        "resource.setrlimit(resource.RLIMIT_NOFILE, ({}, {})); "
        "c = server_config('x:y', Settings(home=sys.argv[1], max_connections=1000)); "
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], c.caps.max_connections)"
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)

    def serve_with(soft: int, hard: int) -> tuple[list[int], str]:
        done = subprocess.run([sys.executable, "-c", code.format(soft, hard), str(tmp_path)], capture_output=True,
                              text=True, check=True)  # fmt: skip
        return [int(n) for n in done.stdout.split()], done.stderr

    if hard >= 1256:
        assert serve_with(256, hard)[0] == [hard, 1000]  # the soft limit is raised to the hard one
    (limit, room), warning = serve_with(512, 512)
    assert limit == 512 and room == 256  # kept well below the limit, with room for the database
    assert "raise the limit" in warning
