"""Polite, safe HTTP for broadsheet: conditional GET, robots.txt, per-host limits, SSRF guard, size/time caps.

It fetches bytes and reports failures as FetchError subclasses; parsing what was fetched is `sources/`'s job.
"""

from __future__ import annotations

from broadsheet.fetch.client import Fetcher
from broadsheet.fetch.result import FetchKind, FetchResult

__all__ = ["FetchKind", "FetchResult", "Fetcher"]
