"""The command tree of the `broadsheet` CLI; each module registers its commands on the shared apps."""

from __future__ import annotations

from broadsheet.commands import copy, crawl, data, rewrite, serve, sources, users, workers
from broadsheet.commands.common import app

__all__ = ["app", "copy", "crawl", "data", "rewrite", "serve", "sources", "users", "workers"]
