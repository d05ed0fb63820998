"""What a CLI run in a test returns (shared by the CLI tests; fixtures are in this folder's conftest)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CliResult:
    code: int
    out: str
    err: str
