"""The command tree of the `broadsheet` CLI; each module registers its commands on the shared apps."""

from __future__ import annotations

from broadsheet.commands import crawl, data, rewrite, serve, sources, workers
from broadsheet.commands.common import app

__all__ = ["app", "crawl", "data", "rewrite", "serve", "sources", "workers"]
