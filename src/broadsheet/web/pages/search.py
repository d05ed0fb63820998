"""The search page: ranked full-text results with highlighted snippets and filters. A query the search syntax
can't take is answered on the page itself with what to fix (status 400), never with an error page."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from broadsheet.models import SearchPage
from broadsheet.store.search import SEARCH_HELP, SearchQueryError, search
from broadsheet.web.context import Ctx

__all__ = ["router", "run_search"]

router = APIRouter(default_response_class=HTMLResponse)

Q = Annotated[str, Query(max_length=500)]


def day_bounds(since: date | None, until: date | None, ctx: Ctx) -> tuple[datetime | None, datetime | None]:
    """Dates typed by the reader are days in the site's time zone; `until` includes its whole day."""
    low = datetime.combine(since, time.min, ctx.zone) if since else None
    high = datetime.combine(until, time.max, ctx.zone) if until else None
    return low, high


def run_search(ctx: Ctx, q: str, page: int, outlet: str | None, lang: str | None, since: date | None,
               until: date | None, per_page: int) -> SearchPage:  # fmt: skip
    low, high = day_bounds(since, until, ctx)
    return search(ctx.store, q, page=page, per_page=per_page, outlet_slug=outlet or None, lang=lang or None,
                  since=low, until=high)  # fmt: skip


@router.get("/search")
def search_page(
    ctx: Ctx,
    request: Request,
    q: Q = "",
    page: Annotated[int, Query(ge=1, le=50)] = 1,
    outlet: str | None = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    params = {"q": q, "outlet": outlet or "", "lang": lang or "", "since": since or "", "until": until or ""}
    results, problem, status = None, "", 200
    if q.strip():
        try:
            results = run_search(ctx, q, page, outlet, lang, since, until, ctx.settings.search_page_size)
        except SearchQueryError as exc:
            problem, status = str(exc), 400
    return ctx.render(
        request,
        "search.html",
        status=status,
        q=q,
        params=params,
        results=results,
        problem=problem,
        help=SEARCH_HELP,
        outlet_options=ctx.outlet_options(outlet or ""),
        page_number=page,
    )
