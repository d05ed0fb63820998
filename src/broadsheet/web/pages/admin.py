"""Admin pages: sources with their health, a page at a time; add a feed or site, OPML in (as a background job
whose progress the page shows) and out, refresh, remove.

Guarded by the admin password (HTTP Basic) and, for every change, a same-origin check plus a CSRF token. Every
answer says `Cache-Control: no-store` (web.cache); the confirmation shown after a change is signed, so a link
from elsewhere cannot make this page say anything.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from broadsheet.errors import BroadsheetError
from broadsheet.models import Outline
from broadsheet.pipeline.opml_import import run_import, start_import, summary
from broadsheet.sources import starter_packs, write_opml
from broadsheet.web.auth import require_admin
from broadsheet.web.cache import changes
from broadsheet.web.context import Ctx, PathId, WebContext
from broadsheet.web.pages.account import check_form
from broadsheet.web.security import request_identity

__all__ = ["router"]

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # sources per page
MAX_MESSAGE = 500
JOB_WAIT = 2.0  # seconds an upload's answer waits for its import, so that a short list is shown done at once
REFRESH_SECONDS = 2  # while an import runs, the page reloads itself this often (no JavaScript needed)
# The home page says "no sources yet" when there are none; no other public page shows sources. Articles stay
# when their source goes, but the API's article detail names its source_id.
SOURCES_SHOWN_ON = ("/",)
SOURCE_IDS_SHOWN_ON = ("/", "/api/v1/articles/*")

_imports: set[asyncio.Task[None]] = set()  # running imports, kept from the garbage collector


router = APIRouter(
    prefix="/admin", dependencies=[Depends(require_admin)], default_response_class=HTMLResponse
)
Token = Annotated[str, Form(alias="csrf", max_length=200)]


def _signature(ctx: WebContext, request: Request, message: str) -> str:
    """The message, signed for the signed-in identity: only this server makes it, for this admin."""
    data = f"admin-message|{request_identity(request)}|{message}".encode()
    digest = hmac.new(ctx.secret, data, hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _page(
    ctx: WebContext,
    request: Request,
    *,
    page: int = 1,
    message: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    total = ctx.store.sources.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    sources = ctx.store.sources.listing(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    now = ctx.clock()
    jobs = ctx.store.jobs.recent(now)
    return ctx.render(request, "admin_sources.html", status=status, sources=sources, total=total, page=page,
                      pages=pages, jobs=[(job, summary(job)) for job in jobs], message=message, error=error,
                      refresh=REFRESH_SECONDS if any(job.active for job in jobs) else 0, now=now,
                      opml_outlines=ctx.settings.max_opml_outlines, opml_bytes=ctx.settings.max_opml_bytes,
                      starter_packs=starter_packs())  # fmt: skip


@router.get("/sources")
def sources_page(
    ctx: Ctx,
    request: Request,
    page: Annotated[int, Query(ge=1, le=10_000_000)] = 1,
    message: Annotated[str, Query(max_length=MAX_MESSAGE)] = "",
    sig: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    signed = bool(message) and hmac.compare_digest(sig.encode(), _signature(ctx, request, message).encode())
    return _page(ctx, request, page=page, message=message if signed else "")


def _done(ctx: WebContext, request: Request, message: str) -> RedirectResponse:
    message = message[:MAX_MESSAGE]
    query = urlencode({"message": message, "sig": _signature(ctx, request, message)})
    return RedirectResponse(f"/admin/sources?{query}", status_code=303)


@router.post("/sources")
async def add_source(ctx: Ctx, request: Request, csrf: Token,
                     url: Annotated[str, Form(max_length=2000)], folder: Annotated[str, Form(max_length=200)] = ""
                     ) -> Response:  # fmt: skip
    check_form(ctx, request, csrf)
    changes(request.scope, *SOURCES_SHOWN_ON)
    from broadsheet.fetch import Fetcher
    from broadsheet.pipeline.subscribe import resolve_source, subscribe

    try:
        async with Fetcher(ctx.settings) as fetcher:
            resolved = await resolve_source(url.strip(), fetcher)
        source = subscribe(ctx.store, resolved, ctx.settings, folder=folder.strip(), now=ctx.clock())
    except BroadsheetError as exc:
        return _page(ctx, request, error=str(exc), status=400)
    warning = f" Warning: {resolved.warning}." if resolved.warning else ""
    return _done(
        ctx,
        request,
        f"Added {source.title or source.url} ({resolved.entries} entries); it will be fetched shortly.{warning}",
    )


@router.post("/sources/import")
async def import_opml(
    ctx: Ctx, request: Request, csrf: Token, opml: Annotated[UploadFile, File()]
) -> Response:
    check_form(ctx, request, csrf)
    changes(request.scope)  # the import job drops what it changes when it ends
    limit = ctx.settings.max_opml_bytes
    data = await opml.read(limit + 1)
    if len(data) > limit:
        return _page(ctx, request, error=f"That OPML file is over {limit:,} bytes (max_opml_bytes); split it, or "
                                         "import it with `broadsheet source import FILE`.", status=413)  # fmt: skip
    job = await run_in_threadpool(start_import, ctx.store, opml.filename or "", ctx.clock())
    task = asyncio.create_task(_run_import(ctx, job.id, data))
    _imports.add(task)
    task.add_done_callback(_imports.discard)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), JOB_WAIT)
    return RedirectResponse("/admin/sources", status_code=303)  # the page shows the job, done or under way


async def _run_import(ctx: WebContext, job_id: int, data: bytes) -> None:
    """The import, in a thread of its own (not one of the threads serving pages)."""
    try:
        await asyncio.to_thread(run_import, ctx.store, job_id, data, ctx.settings, ctx.clock)
    except Exception:
        log.exception("OPML import (job %d) failed; the admin page shows why", job_id)
    finally:
        ctx.page_cache.drop(SOURCES_SHOWN_ON)


@router.post("/starter")
def add_starter_pack(
    ctx: Ctx, request: Request, csrf: Token, pack: Annotated[str, Form(max_length=64)]
) -> Response:
    """Subscribe to every feed of one starter pack, in one click (each is checked on its first crawl)."""
    check_form(ctx, request, csrf)
    chosen = next((p for p in starter_packs() if p.slug == pack), None)
    if chosen is None:
        return _page(ctx, request, error="There is no such starter pack; the page lists them.", status=400)
    changes(request.scope, *SOURCES_SHOWN_ON)
    added, skipped = ctx.store.sources.add_many(
        chosen.feeds, now=ctx.clock(), interval_seconds=ctx.settings.default_poll_interval
    )
    here = f" ({skipped} were already here)" if skipped else ""
    return _done(
        ctx, request, f"Added {added} feeds of {chosen.name}{here}; they are fetched within a minute."
    )


@router.get("/sources.opml")
def export_opml(ctx: Ctx) -> Response:
    outlines = [Outline(url=s.url, title=s.title, site_url=s.site_url, folder=s.folder)
                for s in ctx.store.sources.all()]  # fmt: skip
    return Response(write_opml(outlines), media_type="text/x-opml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="broadsheet.opml"'})  # fmt: skip


@router.post("/sources/{source_id}/refresh")
def refresh(ctx: Ctx, request: Request, source_id: PathId, csrf: Token) -> Response:
    check_form(ctx, request, csrf)
    changes(request.scope)  # what the crawler then stores reaches pages as the cache expires, as always
    source = ctx.store.sources.get(source_id)
    ctx.store.sources.make_due([source_id], ctx.clock())
    return _done(ctx, request, f"{source.title or source.url} will be fetched within a minute.")


@router.post("/sources/{source_id}/remove")
def remove(ctx: Ctx, request: Request, source_id: PathId, csrf: Token) -> Response:
    check_form(ctx, request, csrf)
    changes(request.scope, *SOURCE_IDS_SHOWN_ON)
    source = ctx.store.sources.remove(source_id)
    return _done(ctx, request, f"Removed {source.title or source.url}; its articles stay readable.")
