"""Debian's Chromium for the browser tests, driven by Playwright: where it is, how it is started, and where the
screenshots go. The `browser` fixture (tests/web/conftest.py) launches it once per test module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ARTIFACTS", "CHROMIUM", "launched"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip

if not CHROMIUM and os.environ.get("CI"):
    raise RuntimeError("Debian's chromium is required for the browser tests: apt-get install -y chromium")


def launched() -> Iterator[Any]:
    """A running headless Chromium (a Playwright `Browser`) until the generator is closed; the test is skipped
    where Chromium is not installed (outside CI)."""
    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
