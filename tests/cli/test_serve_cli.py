"""`broadsheet serve` as a real process: it answers HTTP and its built-in scheduler crawls a publisher."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from newsroom import article_page, make_stories, rss
from publisher import Publisher

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_and_crawls_on_schedule(
    publisher: Publisher, tmp_path: Path, cli_env: dict[str, str], workers: int
) -> None:
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
    assert server.returncode == 0, err
    assert f"http://localhost:{port}/" in out
