"""The server's limits on connections, over real sockets: deadlines for a request's headers and body and for
an idle kept-alive connection, the caps on connections per client address and per process, and readers still
served beside clients that hold connections open."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from broadsheet.config import Settings
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.web.server import server_config

# The deadlines under test are set to about a second; a connection must be gone well within this.
GONE_WITHIN = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(app: Any, settings: Settings, lifespan: str = "on") -> Iterator[int]:
    """`app` served as `broadsheet serve` serves it (server_config), in a thread on a free loopback port."""
    port = _free_port()
    config = server_config(app, settings, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def site(tmp_path: Path, **limits: Any) -> Iterator[int]:
    """broadsheet's own app over an empty database, with `limits` (Settings fields) in force."""
    settings = Settings(home=tmp_path, crawl_in_server=False, **limits)
    store = Store.open(settings.database)
    try:
        with serving(create_app(settings, store=store), settings) as port:
            yield port
    finally:
        store.close()


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GONE_WITHIN, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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


def read_response(sock: socket.socket) -> bytes:
    """One whole response (headers and a Content-Length body) from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def reader_served(port: int, source: str = "127.0.0.1") -> bool:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


GET = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=1.0) as port, connect(port) as idle:
        started = time.monotonic()
        assert reader_served(port)
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
    with site(tmp_path, header_timeout=1.0) as port, connect(port) as slow:
        slow.sendall(start)
        # Bytes keep arriving, yet the deadline is for the whole header.
        took = trickle(slow, b"X-Slow: a\r\n" if start.endswith(b"\n") else b"z")
        assert took is not None
        assert reader_served(port)


def test_the_next_request_on_a_kept_alive_connection_has_the_same_header_deadline(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=1.0, keepalive_timeout=30.0) as port, connect(port) as conn:
        conn.sendall(GET)
        assert read_response(conn).startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert trickle(conn, b"X-Slow: a\r\n") is not None


def test_blank_lines_do_not_keep_an_idle_connection_open(tmp_path: Path) -> None:
    # Blank lines between requests are allowed and begin no request, yet they are bytes, and bytes stop the
    # idle timer: they must start the header deadline instead.
    with site(tmp_path, header_timeout=1.0, keepalive_timeout=30.0) as port, connect(port) as conn:
        conn.sendall(GET)
        assert read_response(conn).startswith(b"HTTP/1.1 200")
        assert trickle(conn, b"\r\n") is not None


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(tmp_path: Path) -> None:
    with site(tmp_path, header_timeout=60.0, keepalive_timeout=0.5) as port, connect(port) as conn:
        for _ in range(2):  # served while it is used
            conn.sendall(GET)
            assert read_response(conn).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert closed_by_server(conn)
        # Well before uvicorn's own default of 5 s: the setting is what decides.
        assert time.monotonic() - started < 4.0


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads a request's body whole, then answers with its length."""
    assert scope["type"] == "http"
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_a_body_that_stops_arriving_is_answered_408_and_closed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, body_timeout=1.0, header_timeout=30.0)
    with serving(_echo, settings, lifespan="off") as port, connect(port) as conn:
        head = b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n"
        conn.sendall(head + b"a" * 100)  # then nothing more
        started = time.monotonic()
        conn.settimeout(GONE_WITHIN)
        answer = read_response(conn)
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"connection: close" in answer.lower()
        assert closed_by_server(conn)
        assert 0.9 <= time.monotonic() - started < GONE_WITHIN
        # A body that arrives in time, in pieces, is read whole.
        with connect(port) as prompt:
            prompt.sendall(head)
            for _ in range(10):
                time.sleep(0.02)
                prompt.sendall(b"b" * 100)
            assert read_response(prompt).endswith(b"\r\n\r\n1000")


def test_a_slow_body_on_a_route_that_answers_at_once_is_closed_after_the_body_timeout(tmp_path: Path) -> None:
    with (
        site(tmp_path, body_timeout=1.0, header_timeout=30.0, keepalive_timeout=30.0) as port,
        connect(port) as conn,
    ):
        conn.sendall(b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nabc")
        assert read_response(conn).startswith(b"HTTP/1.1 4")  # refused (a GET route) before the body is read
        # The rest of the body trickles in (and every byte would restart an idle timer): the deadline holds.
        assert trickle(conn, b"a") is not None
        assert reader_served(port)


def _busy(answer: bytes) -> None:
    head = answer.split(b"\r\n\r\n")[0].lower()
    assert answer.startswith(b"HTTP/1.1 503")
    assert b"\r\nretry-after: " in head and b"\r\nconnection: close" in head
    assert b"content-type: text/plain" in head


def test_a_client_address_past_its_connection_cap_is_answered_503_while_others_are_served(
    tmp_path: Path,
) -> None:
    with (
        site(tmp_path, header_timeout=60.0, max_connections_per_client=3) as port,
        contextlib.ExitStack() as held,
    ):
        idle = [held.enter_context(connect(port)) for _ in range(3)]
        time.sleep(0.2)
        with connect(port) as extra:
            extra.sendall(GET)
            answer = read_response(extra)
            _busy(answer)
            assert b"from your address" in answer
            assert closed_by_server(extra)
        with httpx.Client(timeout=10) as client:  # an ordinary client reads the answer, not a reset
            busy = client.get(f"http://127.0.0.1:{port}/healthz")
        assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
        assert reader_served(port, source="127.0.0.2")  # another address: not its cap
        idle[0].close()
        deadline = time.monotonic() + GONE_WITHIN
        while not reader_served_quietly(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reader_served(port)  # a place was freed


def reader_served_quietly(port: int) -> bool:
    try:
        return reader_served(port)
    except httpx.TransportError:
        return False


def test_past_the_servers_connection_cap_every_client_is_answered_503(tmp_path: Path) -> None:
    limits = {"header_timeout": 60.0, "max_connections": 4, "max_connections_per_client": 0}
    with site(tmp_path, **limits) as port, contextlib.ExitStack() as held:
        idle = [held.enter_context(connect(port, source=f"127.0.0.{i + 2}")) for i in range(4)]
        time.sleep(0.2)
        for source in ("127.0.0.1", "127.0.0.9"):
            with connect(port, source) as extra:
                extra.sendall(GET)
                answer = read_response(extra)
                _busy(answer)
                assert b"server is busy" in answer
        idle[0].close()
        deadline = time.monotonic() + GONE_WITHIN
        while not reader_served_quietly(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reader_served(port)


def test_readers_are_served_beside_many_idle_and_trickling_connections(tmp_path: Path) -> None:
    limits = {"header_timeout": 1.0, "max_connections": 200, "max_connections_per_client": 40}
    with site(tmp_path, **limits) as port, contextlib.ExitStack() as held:
        idle = [held.enter_context(connect(port, f"127.0.1.{i % 4 + 1}")) for i in range(120)]
        slow = [held.enter_context(connect(port, f"127.0.2.{i % 2 + 1}")) for i in range(40)]
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(20):
            assert reader_served(port)
        assert all(closed_by_server(sock) for sock in idle + slow)
        assert reader_served(port)


@pytest.mark.slow
def test_serve_applies_the_limits_in_every_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    env |= {"BROADSHEET_CRAWL_IN_SERVER": "false", "BROADSHEET_HEADER_TIMEOUT": "1"}
    for workers in (1, 2):
        port = _free_port()
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
