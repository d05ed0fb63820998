"""An error no route expected, in a real `broadsheet serve` process: the site's own 500 page (JSON under /api)
with the security headers and a reference, one log line per error, and the connection kept."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def serving_a_broken_database(tmp_path: Path, log: list[str]) -> Iterator[str]:
    """`broadsheet serve` over a database that lost its stories table (so every story lookup fails); what the
    server wrote to stderr goes in `log` once it has stopped."""
    home = tmp_path / "home"
    base = [sys.executable, "-m", "broadsheet", "--home", str(home)]
    subprocess.run([*base, "init"], check=True, capture_output=True)
    with sqlite3.connect(home / "broadsheet.db") as db:
        db.execute("DROP TABLE stories")
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADSHEET_")}
    env["BROADSHEET_CRAWL_IN_SERVER"] = "false"
    server = subprocess.Popen([*base, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
        log.extend(err.splitlines())


def _exchange(sock: socket.socket, path: str) -> tuple[str, dict[str, str], bytes]:
    """One request on an open connection: (status line, headers, body)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return status, headers, body


def test_an_unexpected_error_is_a_page_with_a_reference_logged_on_one_line(tmp_path: Path) -> None:
    log: list[str] = []
    with serving_a_broken_database(tmp_path, log) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            status, headers, body = _exchange(sock, "/stories/1")
            assert status.startswith("HTTP/1.1 500")
            assert all(name in headers for name in SECURITY_HEADERS)
            assert headers.get("connection", "").lower() != "close"
            page = body.decode()
            assert "Something went wrong" in page and "no such table" not in page
            found = re.search(r"reference ([0-9a-f]{8})", page)
            assert found is not None
            page_reference = found.group(1)
            # The same connection goes on serving: nothing was cut off.
            status, _, _ = _exchange(sock, "/healthz")
            assert status.startswith("HTTP/1.1 200")

        api = httpx.get(f"{url}/api/v1/stories/1", timeout=10)
        assert api.status_code == 500
        assert all(name in api.headers for name in SECURITY_HEADERS)
        error = api.json()["error"]
        assert error["code"] == "internal_error" and re.fullmatch(r"[0-9a-f]{8}", error["reference"])
        assert error["reference"] in error["message"]

    for reference, path in ((page_reference, "/stories/1"), (error["reference"], "/api/v1/stories/1")):
        lines = [line for line in log if reference in line]
        assert len(lines) == 1, log
        assert (
            f"GET {path}" in lines[0]
            and "OperationalError" in lines[0]
            and "no such table: stories" in lines[0]
        )
        assert re.search(r"at \S+\.py:\d+", lines[0])  # where it was raised
    assert not any("Traceback" in line for line in log), "\n".join(log)
    assert len(log) == 2, "\n".join(log)  # nothing but the two lines
