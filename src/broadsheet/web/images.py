"""The image proxy (setting `proxy_images`): readers' browsers load publishers' images from broadsheet, so
publishers never see who reads what. Each URL is signed, so the proxy fetches only images our pages link to,
through the same SSRF guard, size and time caps as the crawler."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Query
from starlette.responses import Response

from broadsheet.errors import FetchError
from broadsheet.fetch import Fetcher
from broadsheet.web.context import Ctx
from broadsheet.web.security import image_signature

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/img/{sig}")
async def image(ctx: Ctx, sig: str, u: str = Query(max_length=4000)) -> Response:
    if not ctx.settings.proxy_images:
        raise HTTPException(404, "The image proxy is off.")
    if not hmac.compare_digest(sig, image_signature(ctx.secret, u)):
        raise HTTPException(403, "This image address was not made by this site.")
    try:
        async with Fetcher(ctx.settings) as fetcher:
            result = await fetcher.fetch(u, kind="image")
    except FetchError as exc:
        raise HTTPException(502, f"The publisher's image could not be fetched: {exc}") from exc
    headers = {
        "Cache-Control": "public, max-age=86400",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline",
    }
    return Response(result.content, media_type=result.content_type, headers=headers)
