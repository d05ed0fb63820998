"""The search page: ranked full-text results with highlighted snippets and filters. A query the search syntax
can't take is answered on the page itself with what to fix (status 400), never with an error page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from broadsheet.errors import SearchQueryError
from broadsheet.store import SEARCH_HELP
from broadsheet.web.context import Ctx
from broadsheet.web.search import run_search

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse)

Q = Annotated[str, Query(max_length=500)]


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
