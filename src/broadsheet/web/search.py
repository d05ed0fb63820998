"""The reader's search, shared by the search page and the API: a query with its filters, and dates typed by
the reader read as days in the site's time zone. Ranking and snippets are the store's (`store.search`).
"""

from __future__ import annotations

from datetime import date, datetime, time

from broadsheet.models import SearchPage
from broadsheet.store import search
from broadsheet.web.context import Ctx

__all__ = ["day_bounds", "run_search"]


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
