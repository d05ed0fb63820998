"""WebSub's callback, `/websub/{source_id}/{token}`: where hubs confirm (or deny) the subscriptions the crawler
asked for (`pipeline/websub.py`), and push new content, which is kept for the crawler once its signature checks.

The token in the path names one subscription request: a hub calling with an old one (or a made-up one) is
answered 404 to a confirmation and 410 Gone to a push, which tells it to stop. A push whose signature does not
check is answered 202 like any other, as the specification asks, and dropped (and logged).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from broadsheet.pipeline.websub import signature_ok
from broadsheet.web.context import Ctx, PathId

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _lease(value: str | None) -> int | None:
    try:
        seconds = int(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 10 * 365 * 86_400 else None


@router.get("/websub/{source_id}/{token}")
def confirm(ctx: Ctx, request: Request, source_id: PathId, token: str) -> Response:
    """The hub checks that we asked: echo its challenge for a subscription (or unsubscription) we requested."""
    params = request.query_params
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    challenge = params.get("hub.challenge", "")
    store, now = ctx.store.websub, ctx.clock()
    if mode == "denied":
        if store.denied(source_id, token, params.get("hub.reason", "")[:300]):
            log.warning("websub: source %s: the hub denied the subscription (%s)", source_id,
                        params.get("hub.reason", "no reason given")[:300])  # fmt: skip
            return PlainTextResponse("OK")
        return PlainTextResponse("No such subscription request.", 404)
    if mode not in ("subscribe", "unsubscribe") or not challenge or not topic:
        return PlainTextResponse("hub.mode, hub.topic and hub.challenge are needed.", 400)
    # broadsheet never asks to unsubscribe (a removed source's pushes get 410): such a check is not ours.
    done = mode == "subscribe" and store.verified(
        source_id, token, topic, _lease(params.get("hub.lease_seconds")), now
    )
    if not done:
        return PlainTextResponse("No such subscription request.", 404)
    log.info("websub: source %s: the hub confirmed %s for %s", source_id, mode, topic)
    return PlainTextResponse(challenge)


@router.post("/websub/{source_id}/{token}")
async def push(ctx: Ctx, request: Request, source_id: PathId, token: str) -> Response:
    """The hub sends new content: kept for the crawler when signed with this subscription's secret."""
    subscription = await run_in_threadpool(ctx.store.websub.get, source_id)
    if (
        subscription is None
        or not hmac.compare_digest(subscription.token.encode(), token.encode())  # the path's secret
        or subscription.state not in ("active", "pending")
    ):
        return PlainTextResponse("No such subscription: unsubscribe.", 410)
    body = await request.body()  # the gate has bounded it to max_response_bytes
    if not signature_ok(subscription.secret, request.headers.get("x-hub-signature", ""), body):
        log.warning("websub: source %s: a push without a valid signature was dropped", source_id)
        return PlainTextResponse("Accepted.", 202)
    kind = request.headers.get("content-type", "")
    kept = await run_in_threadpool(ctx.store.websub.add_push, source_id, token, body, kind, ctx.clock())
    if kept:
        await run_in_threadpool(ctx.store.sources.make_due, [source_id], ctx.clock())
        ctx.wake_crawler()
    return PlainTextResponse("Accepted.", 202)
