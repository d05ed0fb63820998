"""Helpers for the web tests: a real server on loopback (`running`, `serving`), raw HTTP over sockets
(`exchange`, `read_answer`), the invented data set, `Site`.

The data set is invented: three outlets, tags, images, a syndicated copy, and hostile text (XSS payloads in
titles, authors, tags and article HTML) that must never run or break a page.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from broadsheet.store import Store
from newsroom import make_stories

ADMIN_PASSWORD = "correct horse battery staple"
# Exported embedding models, shared by every test and run (exporting one takes ~20 s).
MODELS_DIR = Path(__file__).resolve().parents[2] / ".cache" / "models"
XSS = [
    "<script>alert('title')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(2)>",
    "javascript:alert(3)",
    "</script><script>alert(4)</script>",
    "{{ 7*7 }}",
]
OUTLETS = ["The Alder Gazette", "Quillon Daily", "Marrowby Herald"]


@dataclass
class Site:
    url: str
    home: Path
    store: Store
    client: httpx.Client


def records() -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for i, story in enumerate(make_stories(24)):
        outlet = OUTLETS[i % 3]
        records.append({
            "url": f"https://{outlet.split()[-1].lower()}.example/news/{story.slug}",
            "title": story.title, "text": story.text, "published": story.published.isoformat(),
            "outlet": outlet, "author": story.author, "lang": "en" if i % 5 else "de",
            "image": f"https://img.example/{i}.jpg", "tags": story.tags,
            "html": "".join(f"<p>{p}</p>" for p in story.paragraphs),
        })  # fmt: skip
    copy = dict(records[0], url="https://wire.example/copied-story", outlet="Wire Service")
    records.append(copy)
    hostile = make_stories(1, seed=7)[0]
    records.append({
        "url": "https://hostile.example/xss", "title": "Hostile " + XSS[0], "text": " ".join(XSS) + " " + hostile.text,
        "published": hostile.published.isoformat(), "outlet": "Evil " + XSS[1], "author": XSS[2],
        "image": "https://img.example/x.jpg", "lang": "en", "tags": [XSS[3], XSS[2], "Hostile"],
        "html": "".join(f"<p>{x}</p>" for x in XSS) + '<p onclick="alert(5)">click</p><iframe src="https://evil.example"></iframe>'
                '<a href="javascript:alert(6)">link</a><form action="https://evil.example"><input name=a></form>',
    })  # fmt: skip
    return records


def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(config: uvicorn.Config, sock: socket.socket | None = None) -> Iterator[uvicorn.Server]:
    """Run the server `config` describes in a thread until the block ends, on `sock` (a listening socket)
    when given; yields it once it listens."""
    server = uvicorn.Server(config)
    sockets = None if sock is None else [sock]
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    with serving(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")):
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Answer:
    """One HTTP response as it came over a socket."""

    status: int
    head: str  # the status line and header lines, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes


def read_answer(sock: socket.socket, method: str = "GET") -> Answer:
    """The next response on `sock`, its body read by Content-Length (none for HEAD), and not a byte more, so
    that pipelined responses are read one call each."""
    # Unbuffered: what follows this response stays in the socket for the next call.
    with sock.makefile("rb", buffering=0) as stream:
        lines: list[bytes] = []
        while not lines or lines[-1] != b"\r\n":
            line = stream.readline(65536)
            assert line.endswith(b"\n"), f"the connection closed mid-response: {b''.join(lines) + line!r}"
            lines.append(line)
        head = b"".join(lines).decode("latin-1").removesuffix("\r\n\r\n")
        status_line, *fields = head.split("\r\n")
        headers = {
            name.strip().lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)
        }
        assert "chunked" not in headers.get("transfer-encoding", ""), "only Content-Length bodies are read"
        length = 0 if method == "HEAD" else int(headers.get("content-length", "0"))
        body = b""
        while len(body) < length:
            chunk = stream.read(length - len(body))
            assert chunk, f"the connection closed mid-body: {body!r}"
            body += chunk
    return Answer(int(status_line.split()[1]), head, headers, body)


def exchange(port: int, request: bytes, timeout: float = 10.0) -> Answer:
    """Send `request`, raw bytes, on a new loopback connection to `port` and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_answer(sock, request.split(b" ", 1)[0].decode("latin-1"))
