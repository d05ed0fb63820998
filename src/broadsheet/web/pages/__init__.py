"""Server-rendered pages, one module per area; each exports `router`."""

from __future__ import annotations

from broadsheet.web.pages import (
    account,
    admin,
    comments,
    docs,
    feeds,
    follows,
    reader,
    search,
    stories,
    webapp,
    websub,
)

# feeds first: "/outlets/{slug}.atom" must not be taken for an outlet called "x.atom"; the story feed before
# the story page for the same reason.
routers = [
    feeds.router,
    stories.router,
    reader.router,
    search.router,
    admin.router,
    docs.router,
    account.router,
    comments.router,
    follows.router,
    webapp.router,
    websub.router,
]

__all__ = ["routers"]
