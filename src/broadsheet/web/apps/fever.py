"""The Fever API (feedafever.com/api, version 3), as Reeder, Unread, ReadKit and Fiery speak it, at `/fever/`.

Apps point at `https://news.example.org/fever/` and sign in with the account name and an app password; they send
only md5("name:password") as `api_key`, a POSTed form field, with the selectors in the query (`?api&items&since_id=
42`). Parameters are taken from the query and the form alike, and several selectors in one call are answered
together, as Fever itself (and FreshRSS) do; Miniflux answers only the first.

Groups are the reader's folders, less the followed stories' (their coverage is no feed's, and Fever has no
labels); subscriptions in no folder are shown in the reader's default folder ("All"). Items are the entries of
the subscribed sources; saved is the site's bookmark; read is the reader's own. Every answer is JSON; a wrong key
gets `{"api_version": 3, "auth": 0}` with status 200, as from Fever, since apps read `auth` and not the status.

Left out: favicons (`favicons: []`, each feed's `favicon_id` 0: the site's outlet icons are addresses of images,
not the data URIs Fever sends), Hot links (`links: []`), Sparks (every feed is Kindling), the XML output
(`?api=xml` gets JSON) and `unread_recently_read` (the site keeps no list of what was read last).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import JSONResponse, Response

from broadsheet.errors import NotFoundError
from broadsheet.readers.tokens import token_hash
from broadsheet.store import DEFAULT_FOLDER, MAX_IDS, Entry, EntryQuery, Stream, Subscription, User
from broadsheet.web.apps.common import entry_html, ready
from broadsheet.web.context import MAX_ID, WebContext, get_context

__all__ = ["API_VERSION", "install", "router"]

router = APIRouter(include_in_schema=False)

API_VERSION = 3
MAX_ITEMS = 50  # items one answer carries, as the spec says servers give
MAX_WITH_IDS = 50  # ids `with_ids` may name (more are ignored)
MAX_MARK_IDS = 1000  # ids one `mark=item` may name: Fever's is one; a comma-separated list is accepted too
KINDLING = 0  # the super group of every feed: `mark=group&id=0` marks everything
_FEVER_KEY = re.compile(r"[0-9a-f]{32}")

Ctx = Annotated[WebContext, Depends(get_context)]


def install(app: FastAPI) -> None:
    """Answer the Fever API at `/fever/` and `/fever` (apps are configured with either)."""
    app.include_router(router)


# --- parameters, pure ----------------------------------------------------------------------------------------


def _number(value: str | None) -> int | None:
    """A whole number from 0 the database can hold, as sent in a parameter; None for anything else (Fever's
    ids are positive; clients send 0 for "from the start")."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def _numbers(value: str | None, most: int) -> list[int]:
    """The positive ids of a comma-separated list, in order, repeats dropped, at most `most`; the rest skipped."""
    found = (_number(part) for part in (value or "").split(","))
    return list(dict.fromkeys(n for n in found if n))[:most]


def _before(value: str | None) -> tuple[bool, datetime | None]:
    """A mark's `before` (unix seconds, the time of the app's last items request): (whether to mark at all,
    marking what was fetched before when). None or 0 marks everything, as FreshRSS reads it; a value that is no
    time marks nothing, so that a garbled request never marks everything read."""
    text = (value or "").strip()
    if not text or text == "0":
        return True, None
    seconds = _number(text)
    if seconds is None:
        return False, None
    try:
        return True, datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return True, None  # past the end of time: everything is before it


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _ids_text(ids: Iterable[int]) -> str:
    """Fever's id lists are strings, comma-separated."""
    return ",".join(str(i) for i in ids)


def _items_query(params: MultiDict) -> EntryQuery | list[int]:
    """What an `items` request asks for: a window of ids (an EntryQuery) or the `with_ids` themselves. As
    Miniflux reads them, the first present of: `since_id` (the 50 ids above it, ascending; 0 or no number: from
    the oldest), `max_id` (the 50 ids below it, descending; 0 or no number: the newest), `with_ids` (those, up to
    50); with none, the 50 oldest, ascending."""
    if "since_id" in params:
        since = _number(params.get("since_id"))
        return EntryQuery(newest_first=False, limit=MAX_ITEMS, min_id=since or None)
    if "max_id" in params:
        below = _number(params.get("max_id"))
        return EntryQuery(newest_first=True, limit=MAX_ITEMS, max_id=below or None)
    if "with_ids" in params:
        return _numbers(",".join(params.getlist("with_ids")), MAX_WITH_IDS)
    return EntryQuery(newest_first=False, limit=MAX_ITEMS)


def _feed_json(sub: Subscription) -> dict[str, Any]:
    updated = sub.last_success_at or sub.created_at
    return {
        "id": sub.source_id, "favicon_id": 0, "title": sub.title, "url": sub.feed_url,
        "site_url": sub.site_url or sub.feed_url, "is_spark": 0, "last_updated_on_time": _unix(updated),
    }  # fmt: skip


def _item_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id, "feed_id": entry.source_id or 0, "title": entry.title, "author": entry.author,
        "html": entry_html(entry), "url": entry.url, "is_saved": int(entry.starred), "is_read": int(entry.read),
        "created_on_time": _unix(entry.shown_time),
    }  # fmt: skip


def _group_of(subs: Sequence[Subscription], group_ids: set[int], default_id: int | None) -> dict[int, int]:
    """Each subscription's group: its folder when that is one of the groups, else the default folder (no
    folder, or a followed story's, which is no group)."""
    found: dict[int, int] = {}
    for sub in subs:
        group = sub.folder_id if sub.folder_id in group_ids else default_id
        if group is not None:
            found[sub.source_id] = group
    return found


def _feeds_groups(grouped: dict[int, int]) -> list[dict[str, Any]]:
    members: dict[int, list[int]] = {}
    for source_id, group in grouped.items():
        members.setdefault(group, []).append(source_id)
    return [{"group_id": g, "feed_ids": _ids_text(sorted(ids))} for g, ids in sorted(members.items())]


# --- the reader's library --------------------------------------------------------------------------------------


def _user(ctx: WebContext, api_key: str) -> User | None:
    """Whose app password this Fever key is (md5 of "name:password", any case); None otherwise. Only a key's
    shape is looked up: anything else is no one's without a query."""
    key = api_key.strip().lower()
    if not _FEVER_KEY.fullmatch(key):
        return None
    return ctx.store.accounts.fever_user(token_hash(key), ctx.clock())


class _Library:
    """One call's view of the reader's library, each part read once however many selectors ask for it."""

    def __init__(self, ctx: WebContext, user: User) -> None:
        self.ctx, self.user = ctx, user
        self._subs: list[Subscription] | None = None
        self._groups: tuple[list[dict[str, Any]], dict[int, int]] | None = None

    @property
    def subs(self) -> list[Subscription]:
        if self._subs is None:
            self._subs = self.ctx.store.library.subscriptions(self.user.id)
        return self._subs

    def groups(self) -> tuple[list[dict[str, Any]], dict[int, int]]:
        """The groups ([{id, title}]) and each subscribed source's group. The default folder is made when some
        subscription needs it (the library's set-up makes it for sources the site put in no folder)."""
        if self._groups is None:
            library = self.ctx.store.library
            folders = [f for f in library.folders(self.user.id) if f.story_id is None]
            ids = {f.id for f in folders}
            default = next((f.id for f in folders if f.name == DEFAULT_FOLDER), None)
            if default is None and any(sub.folder_id not in ids for sub in self.subs):
                default = library.add_folder(self.user.id, DEFAULT_FOLDER, self.ctx.clock())
                folders = [f for f in library.folders(self.user.id) if f.story_id is None]
                ids.add(default)
            groups = [{"id": f.id, "title": f.name} for f in folders]
            self._groups = groups, _group_of(self.subs, ids, default)
        return self._groups

    def ids(self, query: EntryQuery) -> list[int]:
        return self.ctx.store.library.ids(self.user.id, query)

    def unread_ids(self) -> str:
        return _ids_text(self.ids(EntryQuery(read=False, newest_first=False, limit=MAX_IDS)))

    def saved_ids(self) -> str:
        """The bookmarked entries of subscribed sources: those an app can fetch (a bookmark of another source's
        article has no feed among the app's)."""
        return _ids_text(self.ids(EntryQuery(starred=True, newest_first=False, limit=MAX_IDS)))

    def total_items(self) -> int:
        """Every entry of the subscribed sources, counted by the store."""
        return self.ctx.store.library.count(self.user.id, EntryQuery())

    def items(self, params: MultiDict) -> list[dict[str, Any]]:
        wanted = _items_query(params)
        library = self.ctx.store.library
        if isinstance(wanted, EntryQuery):
            entries = library.entries(self.user.id, wanted)
        else:
            subscribed = {sub.source_id for sub in self.subs}
            entries = [e for e in library.entries_by_id(self.user.id, wanted) if e.source_id in subscribed]
        return [_item_json(entry) for entry in entries]

    def last_refreshed(self) -> int:
        """When the newest entry of the subscribed sources was fetched; now when there is none."""
        newest = self.ctx.store.library.entry_ids(self.user.id, EntryQuery(limit=1))
        return _unix(newest[0][1] if newest else self.ctx.clock())

    # --- marks ---------------------------------------------------------------------------------------------

    def mark(self, params: MultiDict) -> dict[str, str]:
        """Do the `mark` the call asks for, and answer with what it changed, as Fever does: the unread ids after
        marking read or unread, the saved ids after saving or unsaving. Nothing for a mark it does not know."""
        kind = (params.get("mark") or "").strip().lower()
        action = (params.get("as") or "").strip().lower()
        if kind == "item" and action in ("read", "unread", "saved", "unsaved"):
            self._mark_items(_numbers(params.get("id"), MAX_MARK_IDS), action)
        elif kind in ("feed", "group") and action == "read":
            target = _number(params.get("id"))
            go, before = _before(params.get("before"))
            if target is None or not go:
                return {}
            if kind == "feed":
                self.ctx.store.library.mark_all_read(
                    self.user.id, Stream("feed", target), self.ctx.clock(), before
                )
            else:
                self._mark_group(target, before)
        else:
            return {}
        if action in ("saved", "unsaved"):
            return {"saved_item_ids": self.saved_ids()}
        return {"unread_item_ids": self.unread_ids()}

    def _mark_items(self, ids: list[int], action: str) -> None:
        if not ids:
            return
        now = self.ctx.clock()
        if action in ("read", "unread"):
            self.ctx.store.library.mark(self.user.id, ids, action == "read", now)
            return
        follows = self.ctx.store.follows
        if action == "unsaved":
            for entry_id in ids:
                follows.unbookmark(self.user.id, entry_id)
            return
        for entry in self.ctx.store.library.entries_by_id(self.user.id, ids):
            try:
                follows.bookmark(self.user.id, entry.id, now)
            except NotFoundError:  # removed since it was read: nothing to save
                continue

    def _mark_group(self, group: int, before: datetime | None) -> None:
        """Group 0 (Kindling) is every feed; a folder is its subscriptions, and the default folder's are also
        those in no folder. Another id (Sparks is -1, a story's folder is no group) marks nothing."""
        library, now = self.ctx.store.library, self.ctx.clock()
        if group == KINDLING:
            library.mark_all_read(self.user.id, Stream("all"), now, before)
            return
        groups, grouped = self.groups()
        if not any(g["id"] == group for g in groups):
            return
        library.mark_all_read(self.user.id, Stream("folder", group), now, before)
        in_folder = {sub.source_id for sub in self.subs if sub.folder_id == group}
        for source_id, found in grouped.items():
            if found == group and source_id not in in_folder:
                library.mark_all_read(self.user.id, Stream("feed", source_id), now, before)


# --- the endpoint --------------------------------------------------------------------------------------------------


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def _params(request: Request) -> MultiDict | None:
    """The query's parameters and the form's (apps send the key in the form, selectors in the query, and some
    everything in one of them); None when the body is no form that can be read."""
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        try:
            form = await request.form()
        except (HTTPException, MultiPartException, ValueError, UnicodeDecodeError):
            return None
        items.extend((key, value) for key, value in form.multi_items() if isinstance(value, str))
    return MultiDict(items)


def _answer(ctx: WebContext, params: MultiDict) -> dict[str, Any]:
    """The whole answer to one authenticated-or-not call: marks first (so the ids that follow show them), then
    each selector present."""
    user = _user(ctx, params.get("api_key") or "")
    if user is None:
        return {"api_version": API_VERSION, "auth": 0}
    ready(ctx, user)
    library = _Library(ctx, user)
    body: dict[str, Any] = {"api_version": API_VERSION, "auth": 1}
    marked = library.mark(params)
    body["last_refreshed_on_time"] = library.last_refreshed()
    if "groups" in params or "feeds" in params:
        groups, grouped = library.groups()
        if "groups" in params:
            body["groups"] = groups
        if "feeds" in params:
            body["feeds"] = [_feed_json(sub) for sub in library.subs]
        body["feeds_groups"] = _feeds_groups(grouped)
    if "favicons" in params:
        body["favicons"] = []
    if "items" in params:
        body["total_items"] = library.total_items()
        body["items"] = library.items(params)
    if "links" in params:
        body["links"] = []
    if "unread_item_ids" in params:
        body["unread_item_ids"] = library.unread_ids()
    if "saved_item_ids" in params:
        body["saved_item_ids"] = library.saved_ids()
    body.update(marked)
    return body


@router.api_route("/fever/", methods=["GET", "POST"])
@router.api_route("/fever", methods=["GET", "POST"])
async def fever(request: Request, ctx: Ctx) -> Response:
    params = await _params(request)
    if params is None:
        return _json({"error": "The body is not a form: send api_key and the rest as form fields."}, 400)
    if "api" not in params:
        return _json(
            {"error": "This is the Fever API's address: call /fever/?api, with api_key (md5 of your account "
                      "name, a colon and an app password) as a form field."},
            400,
        )  # fmt: skip
    return _json(await run_in_threadpool(_answer, ctx, params))
