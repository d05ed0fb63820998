"""`server_threads`: how many threads each server process runs plain-function pages in."""

from __future__ import annotations

from pathlib import Path

from anyio import to_thread
from starlette.testclient import TestClient

from broadsheet.config import Settings
from broadsheet.web import create_app


async def _tokens() -> float:
    return to_thread.current_default_thread_limiter().total_tokens


def test_pages_run_in_as_many_threads_as_the_setting_says(tmp_path: Path) -> None:
    for threads in (1, 3):
        app = create_app(Settings(home=tmp_path, server_threads=threads, crawl_in_server=False))
        with TestClient(app) as client:
            assert client.portal is not None
            assert client.portal.call(_tokens) == threads
            assert client.get("/outlets").status_code == 200  # a plain-function page, run in that pool
