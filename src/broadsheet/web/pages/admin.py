"""Admin pages: sources with their health, add a feed or site, OPML in and out, refresh, remove.

Guarded by the admin password (HTTP Basic) and, for every change, a same-origin check plus a CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from broadsheet.errors import BroadsheetError
from broadsheet.models import Outline, SourceKind
from broadsheet.sources import parse_opml, write_opml
from broadsheet.web.auth import require_admin
from broadsheet.web.context import Ctx, WebContext
from broadsheet.web.security import same_origin, valid_csrf

__all__ = ["router"]

MAX_OPML_BYTES = 2_000_000


def _check_form(ctx: WebContext, request: Request, token: str) -> None:
    if not same_origin(request) or not valid_csrf(ctx.secret, token):
        raise HTTPException(
            403, "This form is out of date or came from another site; reload the page and retry."
        )


router = APIRouter(
    prefix="/admin", dependencies=[Depends(require_admin)], default_response_class=HTMLResponse
)
Token = Annotated[str, Form(alias="csrf", max_length=200)]


def _page(
    ctx: WebContext, request: Request, *, message: str = "", error: str = "", status: int = 200
) -> Response:
    return ctx.render(request, "admin_sources.html", status=status, sources=ctx.store.sources.all(),
                      message=message, error=error, now=ctx.clock())  # fmt: skip


@router.get("/sources")
def sources_page(ctx: Ctx, request: Request, message: str = "") -> Response:
    return _page(ctx, request, message=message[:200])


def _done(message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/admin/sources?message={quote(message)}", status_code=303)


@router.post("/sources")
async def add_source(ctx: Ctx, request: Request, csrf: Token,
                     url: Annotated[str, Form(max_length=2000)], folder: Annotated[str, Form(max_length=200)] = ""
                     ) -> Response:  # fmt: skip
    _check_form(ctx, request, csrf)
    from broadsheet.fetch import Fetcher
    from broadsheet.pipeline.subscribe import resolve_source

    try:
        async with Fetcher(ctx.settings) as fetcher:
            resolved = await resolve_source(url.strip(), fetcher)
        source = ctx.store.sources.add(
            resolved.url, resolved.kind, now=ctx.clock(), interval_seconds=ctx.settings.default_poll_interval,
            title=resolved.title, site_url=resolved.site_url, folder=folder.strip(), format=resolved.format,
            warning=resolved.warning,
        )  # fmt: skip
    except BroadsheetError as exc:
        return _page(ctx, request, error=str(exc), status=400)
    warning = f" Warning: {resolved.warning}." if resolved.warning else ""
    return _done(
        f"Added {source.title or source.url} ({resolved.entries} entries); it will be fetched shortly.{warning}"
    )


@router.post("/sources/import")
async def import_opml(
    ctx: Ctx, request: Request, csrf: Token, opml: Annotated[UploadFile, File()]
) -> Response:
    _check_form(ctx, request, csrf)
    data = await opml.read(MAX_OPML_BYTES + 1)
    if len(data) > MAX_OPML_BYTES:
        return _page(ctx, request, error="That OPML file is over 2 MB; split it or import it with the CLI.",
                     status=400)  # fmt: skip
    try:
        outlines = parse_opml(data)
    except BroadsheetError as exc:
        return _page(ctx, request, error=f"Could not read that OPML file: {exc}", status=400)
    added = 0
    for outline in outlines:
        if ctx.store.sources.find_by_url(outline.url) is None:
            ctx.store.sources.add(
                outline.url, SourceKind.FEED, now=ctx.clock(), interval_seconds=ctx.settings.default_poll_interval,
                title=outline.title, site_url=outline.site_url, folder=outline.folder,
            )  # fmt: skip
            added += 1
    return _done(f"Imported {added} feeds ({len(outlines) - added} were already here).")


@router.get("/sources.opml")
def export_opml(ctx: Ctx) -> Response:
    outlines = [Outline(url=s.url, title=s.title, site_url=s.site_url, folder=s.folder)
                for s in ctx.store.sources.all()]  # fmt: skip
    return Response(write_opml(outlines), media_type="text/x-opml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="broadsheet.opml"'})  # fmt: skip


@router.post("/sources/{source_id}/refresh")
def refresh(ctx: Ctx, request: Request, source_id: int, csrf: Token) -> Response:
    _check_form(ctx, request, csrf)
    source = ctx.store.sources.get(source_id)
    ctx.store.sources.make_due([source_id], ctx.clock())
    return _done(f"{source.title or source.url} will be fetched within a minute.")


@router.post("/sources/{source_id}/remove")
def remove(ctx: Ctx, request: Request, source_id: int, csrf: Token) -> Response:
    _check_form(ctx, request, csrf)
    source = ctx.store.sources.remove(source_id)
    return _done(f"Removed {source.title or source.url}; its articles stay readable.")
