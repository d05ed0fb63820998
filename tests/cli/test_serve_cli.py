"""`broadsheet serve` as a real process: it answers HTTP and its built-in scheduler crawls a publisher."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from broadsheet.errors import WorkersFailedError
from broadsheet.web.workers import check_port_free, listening_socket
from newsroom import article_page, make_stories, rss
from publisher import Publisher

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_and_crawls_on_schedule(
    publisher: Publisher,
    tmp_path: Path,
    cli_env: dict[str, str],
    workers: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Uncached pages: the empty list answered before the first pass would otherwise be served for 30 s more.
    monkeypatch.setenv("BROADSHEET_PAGE_CACHE_SECONDS", "0")
    stories = make_stories(2)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url))
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    home = tmp_path / "home"
    base = [sys.executable, "-m", "broadsheet", "--home", str(home)]
    subprocess.run([*base, "source", "add", publisher.url("/feed.xml")], check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*base, "serve", "--port", str(port), "--workers", str(workers)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)  # fmt: skip
    # On PostgreSQL the server only serves, and a `broadsheet worker` beside it crawls.
    on_postgresql = "BROADSHEET_DATABASE_URL" in cli_env
    crawler = (
        subprocess.Popen([*base, "worker"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if on_postgresql
        else None
    )
    try:
        titles: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(titles) < 2:
            try:
                items = httpx.get(f"http://127.0.0.1:{port}/api/v1/articles", timeout=2).json()["items"]
                titles = [item["title"] for item in items]
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert sorted(titles) == sorted(s.title for s in stories)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and stories[0].title in page.text
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
        if crawler is not None:
            crawler.send_signal(signal.SIGTERM)
            assert crawler.wait(30) == 0
    assert server.returncode == 0, err
    assert f"http://localhost:{port}/" in out
    assert (
        "the crawl scheduler is off on PostgreSQL: `broadsheet worker` processes crawl" in out
    ) == on_postgresql


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_server_workers_share_the_port_and_go_when_the_server_is_killed(
    tmp_path: Path, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_CRAWL_IN_SERVER", "false")
    port = _free_port()
    base = [sys.executable, "-m", "broadsheet", "--home", str(tmp_path / "home")]
    server = subprocess.Popen([*base, "serve", "--port", str(port), "--workers", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _answers(port)
        # Several connections are answered, by both workers (each has its own socket on the port).
        assert all(_answers(port) for _ in range(20))
        # A second server on the same port is refused, not silently mixed in.
        second = subprocess.run([*base, "serve", "--port", str(port), "--workers", "2"], capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert second.returncode == 1 and "port already in use" in second.stderr
        server.kill()  # SIGKILL: no chance to stop the workers itself
        server.wait(10)
        deadline = time.monotonic() + 15
        while _answers(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _answers(port)  # the workers went with it
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
        assert server.stderr is not None
        server.stderr.close()


def test_a_serving_worker_puts_its_start_up_objects_out_of_the_collectors_reach(tmp_path: Path) -> None:
    # A full garbage collection over everything start-up built stalls all requests in flight for tens of ms.
    code = (
        "import gc; from broadsheet.web.app import app_from_environment; "
        "before = gc.get_freeze_count(); app_from_environment(); print(before, gc.get_freeze_count())"
    )
    env = {**os.environ, "BROADSHEET_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after = (int(n) for n in done.stdout.split())
    assert before == 0
    assert after > 10_000


def test_workers_listen_where_one_process_would_and_say_why_they_cannot() -> None:
    port = _free_port()
    check_port_free("localhost", port)
    with listening_socket("localhost", port) as sock:  # IPv4, as uvicorn alone: 127.0.0.1 answers
        assert sock.family == socket.AF_INET
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        with pytest.raises(WorkersFailedError, match="port already in use"):
            check_port_free("127.0.0.1", port)
    with pytest.raises(WorkersFailedError, match="no such address"):
        check_port_free("no-such-host.invalid", port)
    with pytest.raises(WorkersFailedError, match="give --host an address of this machine"):
        check_port_free("192.0.2.1", port)  # a documentation address: not this machine's
