"""The FastAPI application: pages, JSON API, feeds out, static files, security headers, error pages, and the
crawl scheduler running beside them (unless `crawl_in_server` is off)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from broadsheet import __version__
from broadsheet.config import Settings
from broadsheet.pipeline.report import CrawlReport
from broadsheet.store import Store
from broadsheet.web.cache import PageCacheMiddleware
from broadsheet.web.context import WebContext
from broadsheet.web.errors import ErrorPages, HeadAsGet, install_error_handlers
from broadsheet.web.gate import Gate
from broadsheet.web.images import ImageProxy
from broadsheet.web.security import SecurityHeaders, load_secret

__all__ = ["app_from_environment", "create_app", "settle_heap"]

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


async def _scheduler(context: WebContext, stop: asyncio.Event) -> None:
    from broadsheet.pipeline.assemble import build_crawler

    # The server has threads of its own, so extraction workers start from a clean forkserver.
    crawler = build_crawler(context.settings, context.store, start_method="forkserver")
    context.wake_crawler = crawler.wake.set
    await crawler.run_forever(stop, _print_report)


def _print_report(report: CrawlReport) -> None:
    """What each pass did, on the server's standard output, as `broadsheet crawl` prints it."""
    print("\n".join(report.summary_lines()), flush=True)


def create_app(settings: Settings, *, store: Store | None = None, scheduler: bool | None = None) -> FastAPI:
    """The app for `settings`. `store` defaults to opening (and migrating) settings.database; `scheduler`
    defaults to settings.scheduler_in_server."""
    own_store = store is None  # opened here: closed here, when the app stops
    if store is None:
        store = Store.open(settings.database, threads=settings.server_threads)
    context = WebContext(settings, store, load_secret(settings.home))
    from broadsheet.web.readers import ensure_first_admin

    ensure_first_admin(settings, store, context.clock())
    run_scheduler = settings.scheduler_in_server if scheduler is None else scheduler

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Pages whose handlers are plain functions run in these threads. Renders and SQLite reads are CPU work
        # under one interpreter lock: 40 threads (the default) interleave in 5 ms slices in no fair order, so
        # under load some readers wait many times longer than others. A few threads keep them first come,
        # first served, while one thread's SQLite work (which lets go of the lock) overlaps another's Python.
        to_thread.current_default_thread_limiter().total_tokens = settings.server_threads
        stop = asyncio.Event()
        task = asyncio.create_task(_scheduler(context, stop)) if run_scheduler else None
        # One image fetcher per server process, so its limits hold across all readers (web/images.py).
        async with ImageProxy(settings) as images:
            _app.state.images = images
            yield
        stop.set()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        context.passwords.close()
        if own_store:
            context.store.close()

    app = FastAPI(
        title=f"{settings.site_name} API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads scripts from a CDN; /docs is our own page (pages/docs.py)
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.context = context
    # Innermost: refusals made before the app reads a body still get the security headers.
    app.add_middleware(Gate, settings=settings)
    app.add_middleware(SecurityHeaders, proxy_images=settings.proxy_images)
    # Outside those, so cached pages keep the security headers and a hit skips everything below.
    app.add_middleware(PageCacheMiddleware, cache=context.page_cache)
    # Around everything: an exception any layer lets out is the site's own 500, headers and all; HEAD is
    # answered as GET without the body, from the page cache too.
    app.add_middleware(ErrorPages, proxy_images=settings.proxy_images)
    app.add_middleware(HeadAsGet)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from broadsheet.web.api import router as api_router
    from broadsheet.web.api.comments import router as comments_api_router
    from broadsheet.web.api.me import router as me_api_router
    from broadsheet.web.apps import install as install_reader_apps
    from broadsheet.web.images import router as image_router
    from broadsheet.web.pages import reader
    from broadsheet.web.pages import routers as page_routers

    app.router.routes[:0] = reader.routes
    app.include_router(api_router)
    app.include_router(comments_api_router)
    app.include_router(me_api_router)
    app.include_router(image_router)
    install_reader_apps(app)
    for router in page_routers:
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """One server worker of `broadsheet serve --workers N`: settings from BROADSHEET_* (the parent sets
    BROADSHEET_HOME); the crawler runs as a separate process, never inside a worker."""
    from broadsheet.config import load_settings

    app = create_app(load_settings(), scheduler=False)
    settle_heap()
    return app


def settle_heap() -> None:
    """Put what start-up built (modules, the app, its templates and store) out of the garbage collector's
    reach, once a serving process is ready. A full collection would otherwise walk those ~130 000 long-lived
    objects, stalling every request in flight for 60-70 ms; it then walks only what serving made since (a few
    ms). Call it in the process that serves, never in one that builds many apps (tests): frozen objects are
    never freed."""
    gc.collect()
    gc.freeze()
