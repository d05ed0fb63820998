"""Server-rendered pages, one module per area; each exports `router`."""

from __future__ import annotations

from broadsheet.web.pages import admin, docs, feeds, reader, search

# feeds first: "/outlets/{slug}.atom" must not be taken for an outlet called "x.atom"
routers = [feeds.router, reader.router, search.router, admin.router, docs.router]

__all__ = ["routers"]
