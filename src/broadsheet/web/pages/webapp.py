"""The installable web app: its manifest, its service worker (`static/sw.js`, served from the root so that it
may look after every page) and the page it shows offline. The worker carries this build's version, so a new
build replaces the old one's cached files (see `static/sw.js`)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from broadsheet import __version__
from broadsheet.web.context import Ctx

__all__ = ["THEME_COLOUR", "router", "worker_version"]

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
THEME_COLOUR = "#1f3a5f"  # the icons' blue
# What the worker keeps: a change to any of them is a new version.
SHELL = ("sw.js", "app.js", "style.css", "icon-192.png", "icon-512.png")


@cache
def worker_version() -> str:
    """broadsheet's version and a digest of the files the worker keeps (templates change with the version)."""
    digest = hashlib.sha256(__version__.encode())
    for name in SHELL:
        digest.update((STATIC / name).read_bytes())
    return f"{__version__}-{digest.hexdigest()[:12]}"


@router.get("/manifest.webmanifest")
def manifest(ctx: Ctx) -> Response:
    name = ctx.settings.site_name
    icons = [
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    body = {
        "id": "/", "name": name, "short_name": name[:12], "lang": ctx.settings.site_language,
        "description": f"{name}: the news, every outlet's coverage side by side.",
        "start_url": "/", "scope": "/", "display": "standalone", "background_color": "#ffffff",
        "theme_color": THEME_COLOUR, "icons": icons,
    }  # fmt: skip
    return JSONResponse(body, media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    script = (STATIC / "sw.js").read_text().replace("__VERSION__", worker_version())
    # Browsers check for a new worker at each visit; no-cache makes them ask this server, not their cache.
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/offline")
def offline(ctx: Ctx, request: Request) -> Response:
    return ctx.render(request, "offline.html")
