"""The APIs reader apps already speak, each in its module: Google Reader (`greader`), Miniflux v1 (`miniflux`)
and Fever (`fever`), over one library per reader (`store.library`) and app passwords (`common`)."""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the reader-app routes to `app`, with the answers each protocol gives a caller it does not know."""
    from broadsheet.web.apps import fever, greader, miniflux

    app.include_router(greader.router)
    app.add_exception_handler(greader._Unauthorized, greader.unauthorized)
    app.add_exception_handler(greader._BadToken, greader.bad_token)
    miniflux.install(app)
    fever.install(app)
