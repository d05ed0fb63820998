"""Fixtures for tests that drive the `broadsheet` command against loopback publishers."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clirun import CliResult

# Exported embedding models are shared by every test (and every run): exporting one takes ~20 s.
MODELS_DIR = Path(__file__).resolve().parents[2] / ".cache" / "models"

CLI_ENV = {
    "BROADSHEET_MODELS_DIR": str(MODELS_DIR),
    "BROADSHEET_ALLOW_PRIVATE_NETWORKS": "true",
    "BROADSHEET_PER_HOST_DELAY": "0",
    "BROADSHEET_RETRY_BACKOFF": "0.01",
    "BROADSHEET_CONNECT_TIMEOUT": "2",
    "BROADSHEET_REQUEST_TIMEOUT": "5",
    "BROADSHEET_EXTRACT_WORKERS": "1",
}


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> dict[str, str]:
    """BROADSHEET_* variables for loopback publishers, set for in-process CLI runs (and copied to subprocesses):
    on each back end in turn, SQLite in the home (the default) and a PostgreSQL database."""
    for name in [n for n in os.environ if n.startswith("BROADSHEET_")]:
        monkeypatch.delenv(name)
    env = dict(CLI_ENV)
    if not database_url.startswith("sqlite"):
        env["BROADSHEET_DATABASE_URL"] = database_url
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_env: dict[str, str]
) -> Iterator[Callable[..., CliResult]]:
    """Run `broadsheet --home <tmp> ARGS...` in this process through the real entry point."""
    from broadsheet.cli import main

    home = tmp_path / "home"
    previous = signal.getsignal(signal.SIGTERM)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        sys.argv = ["broadsheet", "--home", str(home), *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    yield run
    signal.signal(signal.SIGTERM, previous)
