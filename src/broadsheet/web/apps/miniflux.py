"""The Miniflux API v1, the subset reader apps use, at the site's root (`/v1/...`), over the reader's library.

Apps sign in with HTTP Basic (account name and an app password) or send the app password, or an API token, in
`X-Auth-Token`. Feeds are the reader's subscriptions (a feed's id is its source's); categories are their
folders. Every Miniflux feed has a category, so a subscription in no folder is shown in the reader's default
folder (`DEFAULT_FOLDER`, made when needed). A folder for a story the reader follows is a category too, with no
feeds: its entries are the story's coverage from every outlet. Starred is the site's bookmark. Errors are
Miniflux's `{"error_message": ...}`; dates are `YYYY-MM-DDTHH:MM:SSZ` (newsboat misreads fractions and offsets).

Where broadsheet differs from Miniflux, and why:

- Entry lists answer at most `limit` entries, 100 when it is absent (as Miniflux 2.2 does; older versions gave
  every entry); `limit=0` means as many as the window allows. The window is the first `MAX_WINDOW` (10 000)
  entries that match, in the order asked for: an `offset` past it answers no entries, as past the end of any
  list. Further back, page with `before_entry_id` / `after_entry_id` (or narrow by status), which have no such
  bound. `total` is the store's count of every match.
- Orders: ids grow with fetch time, so `id` and `created_at` are honoured exactly; `published_at` (Miniflux's
  default) is taken as id order too (publishers' dates are often missing or wrong), and so are the orders we
  cannot sort by in the database (`status`, `changed_at`, `category_*`, `title`, `author`). Direction is `asc`
  unless asked, as Miniflux.
- `before`/`after` and `published_before`/`published_after` compare the fetch time (close to publication,
  and indexed); `changed_before`/`changed_after` and `search`, `tags`, `globally_visible` are not honoured
  (a filter left out only gives more entries, never loses any).
- `starred=true` without a feed or category is every bookmark, whatever its outlet (a bookmark made on the site
  stays visible in the app); `status=removed` matches nothing (entries are never removed).
- Deleting a category keeps its feeds (they move to the default category; Miniflux deletes them); deleting a
  story's category stops following the story. Refreshing is accepted and does nothing: the site's crawler
  fetches on its own schedule.
- An unknown feed, entry or category in the path is 404; in a filter (`feed_id=`, `category_id=`), 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse, Response

from broadsheet.errors import BroadsheetError, NotFoundError
from broadsheet.readers.names import Role
from broadsheet.store import DEFAULT_FOLDER, MAX_IDS, Entry, EntryQuery, Folder, Stream, Subscription, User
from broadsheet.web.apps.common import add_feed, app_password_user, entry_html, ready, story_folders
from broadsheet.web.context import WebContext, get_context

__all__ = ["DEFAULT_LIMIT", "MAX_WINDOW", "Filters", "install", "miniflux_date", "parse_filters", "router"]

router = APIRouter(include_in_schema=False)

DEFAULT_LIMIT = 100  # entries per answer when the app does not say
MAX_WINDOW = 10_000  # entries of one filter that offset and total reach (see the module's docstring)
MAX_ID = 2**63 - 1
READING_SPEED = 265  # words a minute, Miniflux's default for reading_time
ORDERS = frozenset(
    {
        "id",
        "status",
        "changed_at",
        "published_at",
        "created_at",
        "category_title",
        "category_id",
        "title",
        "author",
    }
)
STATUSES = frozenset({"read", "unread", "removed"})
_TAG = re.compile(r"<[^>]*>")
_UNAUTHORIZED = (
    "Access Unauthorized: sign in with your account name and an app password (made on your account page) as "
    "HTTP Basic credentials, or send the app password (or an API token) in the X-Auth-Token header."
)


# --- errors: Miniflux's JSON shape ----------------------------------------------------------------------------


class ApiError(Exception):
    """An answer other than success, with the message the app shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # the only exception this handler is installed for
    status, message = exc.status, exc.message
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="broadsheet"'
    return JSONResponse({"error_message": message}, status_code=status, headers=headers)


def _json(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _done() -> Response:
    return Response(status_code=204)


def install(app: FastAPI) -> None:
    """Add the `/v1/` routes, and the handler that answers their errors as Miniflux does."""
    app.include_router(router)
    app.add_exception_handler(ApiError, _error)


# --- values, pure ---------------------------------------------------------------------------------------------


def miniflux_date(moment: datetime | None) -> str:
    """Seconds and `Z`: the one form every Miniflux app parses (Go's zero time for none, as Miniflux)."""
    if moment is None:
        return "0001-01-01T00:00:00Z"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_id(value: str, what: str) -> int:
    """A positive id from the path; anything else names nothing there (404)."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ApiError(404, f"There is no {what} {value!r}.")
    return int(text)


def _int(params: QueryParams, name: str, default: int) -> int:
    """An integer parameter; absent or unreadable is the default, as Go's strconv-based helpers do."""
    value = params.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _bool(value: str | None) -> bool | None:
    """Go's strconv.ParseBool; None for anything it refuses (the filter is then left out, as Miniflux)."""
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None


def _moment(seconds: int) -> datetime | None:
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _positive(value: int) -> int | None:
    return value if 0 < value <= MAX_ID else None


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True, slots=True)
class Filters:
    """What an entry list asks for, read from its query string."""

    read: bool | None = None
    nothing: bool = False  # only status=removed: no entry matches
    starred: bool | None = None
    newest_first: bool = False
    offset: int = 0
    limit: int = DEFAULT_LIMIT  # already cut to the window
    since: datetime | None = None
    until: datetime | None = None
    min_id: int | None = None
    max_id: int | None = None
    feed_id: int | None = None
    category_id: int | None = None

    def query(self) -> EntryQuery:
        """The store's query, for any stream (the caller sets it, and the limit)."""
        return EntryQuery(
            read=self.read, starred=self.starred, newest_first=self.newest_first, limit=MAX_WINDOW,
            since=self.since, until=self.until, min_id=self.min_id, max_id=self.max_id,
        )  # fmt: skip


def parse_filters(params: QueryParams) -> Filters:
    """The filters of `GET /v1/entries` (and of a feed's or category's entries); ApiError(400) for values
    Miniflux refuses."""
    statuses = set(params.getlist("status"))
    unknown = statuses - STATUSES
    if unknown:
        raise ApiError(
            400, f'Invalid entry status {sorted(unknown)[0]!r}: use "read", "unread" or "removed".'
        )
    kept = statuses - {"removed"}
    read = None if len(kept) != 1 else kept == {"read"}
    order = params.get("order") or "published_at"
    if order not in ORDERS:
        raise ApiError(400, f"Invalid entry order {order!r}: use one of {', '.join(sorted(ORDERS))}.")
    direction = params.get("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise ApiError(400, 'Invalid direction: use "asc" or "desc".')
    offset, limit = _int(params, "offset", 0), _int(params, "limit", DEFAULT_LIMIT)
    if offset < 0:
        raise ApiError(400, "Offset value should be >= 0.")
    if limit < 0:
        raise ApiError(400, "Limit value should be >= 0.")
    room = max(0, MAX_WINDOW - offset)
    after = _moment(_int(params, "after", 0))
    before = _moment(_int(params, "before", 0))
    return Filters(
        read=read,
        nothing=bool(statuses) and not kept,
        starred=_bool(params.get("starred")) if "starred" in params else None,
        newest_first=direction == "desc",
        offset=offset,
        limit=room if limit == 0 else min(limit, room),
        since=_later(after, _moment(_int(params, "published_after", 0))),
        until=_earlier(before, _moment(_int(params, "published_before", 0))),
        min_id=_positive(_int(params, "after_entry_id", 0)),
        max_id=_positive(_int(params, "before_entry_id", 0)),
        feed_id=_positive(_int(params, "feed_id", 0)),
        category_id=_positive(_int(params, "category_id", 0)),
    )


def reading_time(html: str) -> int:
    """Minutes to read, as Miniflux estimates them: words at 265 a minute, rounded up."""
    words = len(_TAG.sub(" ", html).split())
    return math.ceil(words / READING_SPEED)


# --- who: the app password ------------------------------------------------------------------------------------


def _credentials(request: Request) -> tuple[str, str | None]:
    """(secret, account name or None) from X-Auth-Token, else from HTTP Basic; ('', None) when neither."""
    token = request.headers.get("x-auth-token")
    if token is not None:
        return token.strip(), None
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", None
    name, colon, secret = decoded.partition(":")
    return (secret, name) if colon else ("", None)


def _reader(request: Request, ctx: Annotated[WebContext, Depends(get_context)]) -> User:
    """The signed-in reader, their library set up. A wrong token is refused even with good Basic credentials
    beside it, as Miniflux does."""
    secret, name = _credentials(request)
    user = app_password_user(ctx, secret, name) if secret else None
    if user is None:
        raise ApiError(401, _UNAUTHORIZED)
    ready(ctx, user)
    return user


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object a change sends. Read whatever the Content-Type says: newsboat sends JSON labelled
    application/x-www-form-urlencoded."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "The request needs a JSON object as its body.")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"The request body is not JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


Ctx = Annotated[WebContext, Depends(get_context)]
Reader = Annotated[User, Depends(_reader)]
Body = Annotated[dict[str, Any], Depends(_body)]


def _wanted_int(body: dict[str, Any], key: str) -> int | None:
    """An integer field of a body (absent or null: None); ApiError(400) for another type."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{key} must be a number.")
    return value


def _wanted_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{key} must be a string.")
    return value


# --- the reader's library, as Miniflux sees it -----------------------------------------------------------------


@dataclass
class Library:
    """One request's view of the reader's subscriptions and folders: which category each feed is in."""

    user: User
    subs: dict[int, Subscription]  # by source id, in the store's order (folder, then title)
    folders: dict[int, Folder]  # every folder, story folders too
    default_id: int  # the folder that holds subscriptions in none
    stories: dict[int, Folder] = field(init=False, default_factory=dict)  # story folders by story id

    def __post_init__(self) -> None:
        self.stories = {f.story_id: f for f in self.folders.values() if f.story_id is not None}

    def category_of(self, sub: Subscription) -> int:
        folder = self.folders.get(sub.folder_id or 0)
        return folder.id if folder is not None and folder.story_id is None else self.default_id

    def feeds_in(self, category_id: int) -> list[Subscription]:
        return [sub for sub in self.subs.values() if self.category_of(sub) == category_id]

    def category(self, category_id: int) -> Folder:
        folder = self.folders.get(category_id)
        if folder is None:
            raise ApiError(404, f"You have no category {category_id}.")
        return folder

    def feed(self, feed_id: int) -> Subscription:
        sub = self.subs.get(feed_id)
        if sub is None:
            raise ApiError(404, f"You have no feed {feed_id}.")
        return sub


def _library(ctx: WebContext, user: User, *, sync_stories: bool = False) -> Library:
    """The reader's library, with the default folder made when a subscription needs it or when the reader has
    no other category (every Miniflux feed and new feed needs one)."""
    store = ctx.store.library
    folders = story_folders(ctx, user) if sync_stories else store.folders(user.id)
    subs = store.subscriptions(user.id)
    plain = {f.id for f in folders if f.story_id is None}
    default = next((f for f in folders if f.story_id is None and f.name == DEFAULT_FOLDER), None)
    if default is None and (not plain or any(s.folder_id not in plain for s in subs)):
        folder_id = store.add_folder(user.id, DEFAULT_FOLDER, ctx.clock())
        default = Folder(folder_id, DEFAULT_FOLDER, None)
        folders = [*folders, default]
    default_id = default.id if default is not None else min(plain)
    return Library(user, {s.source_id: s for s in subs}, {f.id: f for f in folders}, default_id)


def _category_json(user: User, folder: Folder) -> dict[str, Any]:
    return {"id": folder.id, "title": folder.name, "user_id": user.id, "hide_globally": False}


def _feed_json(lib: Library, sub: Subscription) -> dict[str, Any]:
    category = _category_json(lib.user, lib.folders[lib.category_of(sub)])
    return {
        "id": sub.source_id, "user_id": lib.user.id, "feed_url": sub.feed_url,
        "site_url": sub.site_url or sub.feed_url, "title": sub.title,
        "checked_at": miniflux_date(sub.last_success_at or sub.created_at), "next_check_at": miniflux_date(None),
        "etag_header": "", "last_modified_header": "", "parsing_error_message": "", "parsing_error_count": 0,
        "scraper_rules": "", "rewrite_rules": "", "crawler": False, "blocklist_rules": "", "keeplist_rules": "",
        "urlrewrite_rules": "", "user_agent": "", "cookie": "", "username": "", "password": "",
        "disabled": False, "no_media_player": False, "ignore_http_cache": False,
        "allow_self_signed_certificates": False, "fetch_via_proxy": False, "hide_globally": False,
        "apprise_service_urls": "", "category": category, "icon": None,
    }  # fmt: skip


def _outside_feed(lib: Library, entry: Entry) -> dict[str, Any]:
    """The feed of an entry from a source the reader is not subscribed to (a followed story's coverage, a
    bookmark): its outlet, in the story's category when the reader follows the story."""
    folder = lib.stories.get(entry.story_id or 0) or lib.folders[lib.default_id]
    sub = Subscription(
        source_id=entry.source_id or 0, feed_url="", title=entry.outlet, site_url="", folder_id=folder.id,
        folder=folder.name, created_at=entry.fetched_at, last_success_at=None,
    )  # fmt: skip
    feed = _feed_json(lib, sub)
    feed["category"] = _category_json(lib.user, folder)
    return feed


def _entry_json(
    lib: Library, entry: Entry, feeds: dict[tuple[object, ...], dict[str, Any]]
) -> dict[str, Any]:
    sub = lib.subs.get(entry.source_id or 0)
    key: tuple[object, ...] = (
        (entry.source_id,) if sub is not None else (entry.source_id, entry.outlet, entry.story_id)
    )
    if key not in feeds:
        feeds[key] = _feed_json(lib, sub) if sub is not None else _outside_feed(lib, entry)
    content = entry_html(entry)
    return {
        "id": entry.id, "user_id": lib.user.id, "feed_id": entry.source_id or 0,
        "status": "read" if entry.read else "unread",
        "hash": hashlib.sha256(entry.url.encode()).hexdigest(), "title": entry.title, "url": entry.url,
        "comments_url": "", "published_at": miniflux_date(entry.shown_time),
        "created_at": miniflux_date(entry.fetched_at), "changed_at": miniflux_date(entry.updated or entry.fetched_at),
        "content": content, "author": entry.author, "share_code": "", "starred": entry.starred,
        "reading_time": reading_time(content), "enclosures": [], "tags": [], "feed": feeds[key],
    }  # fmt: skip


def _entries_json(lib: Library, entries: Iterable[Entry]) -> list[dict[str, Any]]:
    feeds: dict[tuple[object, ...], dict[str, Any]] = {}  # each feed's JSON made once per answer
    return [_entry_json(lib, entry, feeds) for entry in entries]


# --- entry lists ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entries a list covers: one stream of the store's (None: nothing), optionally only one source's
    entries in it (a story's coverage from one feed)."""

    stream: Stream | None = None
    source_id: int | None = None


def _category_stream(lib: Library, folder: Folder) -> Stream:
    if folder.story_id is not None:
        return Stream("story", folder.story_id)
    # The default category is its folder and every feed in none: one stream of the store's.
    return Stream("default" if folder.id == lib.default_id else "folder", folder.id)


def _selection(lib: Library, filters: Filters, path_feed: int | None, path_category: int | None) -> Selection:
    """The stream for a list: a feed or category named in the path must be the reader's (404); one named in
    the query string too (400, as Miniflux), and a feed outside the category named beside it matches nothing."""
    if path_feed is not None:
        lib.feed(path_feed)
    if path_category is not None:
        lib.category(path_category)
    feed_id = filters.feed_id or path_feed
    category_id = filters.category_id or path_category
    if feed_id is not None and feed_id not in lib.subs:
        raise ApiError(400, f"Invalid feed ID: you have no feed {feed_id}.")
    if category_id is not None and category_id not in lib.folders:
        raise ApiError(400, f"Invalid category ID: you have no category {category_id}.")
    if category_id is not None:
        folder = lib.folders[category_id]
        if feed_id is None:
            return Selection(_category_stream(lib, folder))
        if folder.story_id is not None:
            return Selection(Stream("story", folder.story_id), source_id=feed_id)
        if lib.category_of(lib.subs[feed_id]) != category_id:
            return Selection()
    if feed_id is not None:
        return Selection(Stream("feed", feed_id))
    return Selection(Stream("starred" if filters.starred else "all"))


def _window(ctx: WebContext, user: User, stream: Stream, source_id: int, filters: Filters) -> list[int]:
    """The ids of the first MAX_WINDOW entries of `stream` that match the filters, in the order asked for,
    kept when they are `source_id`'s."""
    rows = ctx.store.library.entry_ids(user.id, replace(filters.query(), stream=stream))
    return [entry_id for entry_id, _, source in rows if source == source_id][:MAX_WINDOW]


def _entry_list(
    ctx: WebContext,
    user: User,
    params: QueryParams,
    feed_id: int | None = None,
    category_id: int | None = None,
) -> Response:
    filters = parse_filters(params)
    lib = _library(ctx, user)
    selection = _selection(lib, filters, feed_id, category_id)
    if filters.nothing or selection.stream is None:
        return _json({"total": 0, "entries": []})
    if selection.source_id is not None:  # one feed's part of a story: an id window, filtered
        ids = _window(ctx, user, selection.stream, selection.source_id, filters)
        page = ids[filters.offset : filters.offset + filters.limit]
        entries = ctx.store.library.entries_by_id(user.id, page) if page else []
        return _json({"total": len(ids), "entries": _entries_json(lib, entries)})
    # The store counts and pages the stream (OFFSET) itself.
    query = replace(filters.query(), stream=selection.stream)
    total = ctx.store.library.count(user.id, query)
    wanted = min(filters.limit, MAX_IDS - filters.offset) if filters.offset < total else 0
    page_query = replace(query, offset=filters.offset, limit=max(1, wanted))
    entries = ctx.store.library.entries(user.id, page_query) if wanted > 0 else []
    return _json({"total": total, "entries": _entries_json(lib, entries)})


def _one_entry(ctx: WebContext, user: User, entry_id: int) -> tuple[Library, Entry]:
    found = ctx.store.library.entries_by_id(user.id, [entry_id])
    if not found:
        raise ApiError(404, f"There is no entry {entry_id}.")
    return _library(ctx, user), found[0]


# --- the reader -----------------------------------------------------------------------------------------------


@router.get("/v1/me")
def me(ctx: Ctx, user: Reader) -> Response:
    return _json({
        "id": user.id, "username": user.name, "is_admin": user.role == Role.ADMIN, "theme": "light_serif",
        "language": "en_US", "timezone": ctx.settings.time_zone, "entry_sorting_direction": "desc",
        "entry_sorting_order": "published_at", "entries_per_page": DEFAULT_LIMIT, "keyboard_shortcuts": True,
        "show_reading_time": True, "entry_swipe": True, "gesture_nav": "tap", "display_mode": "standalone",
        "default_reading_speed": READING_SPEED, "cjk_reading_speed": 500, "default_home_page": "unread",
        "categories_sorting_order": "unread_count", "mark_read_on_view": True, "media_playback_rate": 1,
        "stylesheet": "", "custom_js": "", "google_id": "", "openid_connect_id": "",
        "block_filter_entry_rules": "", "keep_filter_entry_rules": "", "external_font_hosts": "",
        "always_open_external_links": False, "open_external_links_in_new_tab": True,
        "last_login_at": miniflux_date(ctx.clock()),
    })  # fmt: skip


@router.put("/v1/users/{user_id}/mark-all-as-read")
def mark_user_read(ctx: Ctx, user: Reader, user_id: str) -> Response:
    if _path_id(user_id, "user") != user.id:
        raise ApiError(403, "You can only mark your own entries as read.")
    ctx.store.library.mark_all_read(user.id, Stream("all"), ctx.clock())
    return _done()


# --- categories ----------------------------------------------------------------------------------------------


Counts = dict[int, tuple[int, datetime | None]]  # unread entries (and the newest's time) by source or story


def _with_counts(lib: Library, folder: Folder, unread: Counts, stories: Counts) -> dict[str, Any]:
    """A category with its feed count and unread entries (`?counts=true`, Miniflux 2.0.46 on)."""
    body = _category_json(lib.user, folder)
    if folder.story_id is not None:
        body.update(feed_count=0, total_unread=stories.get(folder.story_id, (0, None))[0])
        return body
    feeds = lib.feeds_in(folder.id)
    body.update(feed_count=len(feeds), total_unread=sum(unread.get(s.source_id, (0, None))[0] for s in feeds))
    return body


@router.get("/v1/categories")
def categories(ctx: Ctx, user: Reader, request: Request) -> Response:
    """The reader's folders, story folders after the others (they are synced with the stories followed)."""
    lib = _library(ctx, user, sync_stories=True)
    folders = sorted(lib.folders.values(), key=lambda f: (f.story_id is not None, f.name.casefold(), f.id))
    if not _bool(request.query_params.get("counts")):
        return _json([_category_json(user, folder) for folder in folders])
    unread = ctx.store.library.unread_counts(user.id)
    stories = ctx.store.library.story_unread(user.id, list(lib.stories))
    return _json([_with_counts(lib, folder, unread, stories) for folder in folders])


@router.post("/v1/categories")
def create_category(ctx: Ctx, user: Reader, body: Body) -> Response:
    title = (_wanted_str(body, "title") or "").strip()
    if not title:
        raise ApiError(400, "The category title is mandatory.")
    if ctx.store.library.folder_named(user.id, title) is not None:
        raise ApiError(400, f"You have a category named {title!r} already.")
    try:
        folder_id = ctx.store.library.add_folder(user.id, title, ctx.clock())
    except ValueError as exc:  # too long, control characters, too many
        raise ApiError(400, f"{str(exc)[0].upper()}{str(exc)[1:]}.") from exc
    return _json(_category_json(user, Folder(folder_id, title, None)), 201)


@router.put("/v1/categories/{category_id}")
def update_category(ctx: Ctx, user: Reader, category_id: str, body: Body) -> Response:
    folder = _library(ctx, user).category(_path_id(category_id, "category"))
    title = (_wanted_str(body, "title") or "").strip()
    if folder.story_id is not None:
        raise ApiError(400, "A followed story's category is named after the story; it cannot be renamed.")
    if not title:
        raise ApiError(400, "The category title is mandatory.")
    try:
        ctx.store.library.rename_folder(user.id, folder.id, title)
    except ValueError as exc:
        raise ApiError(400, f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from exc
    return _json(_category_json(user, Folder(folder.id, title, None)), 201)


@router.delete("/v1/categories/{category_id}")
def delete_category(ctx: Ctx, user: Reader, category_id: str) -> Response:
    folder = _library(ctx, user).category(_path_id(category_id, "category"))
    if folder.story_id is not None:  # removing a story's category stops following the story
        ctx.store.follows.unfollow(user.id, "story", str(folder.story_id))
    ctx.store.library.remove_folder(user.id, folder.id)
    return _done()


@router.get("/v1/categories/{category_id}/feeds")
def category_feeds(ctx: Ctx, user: Reader, category_id: str) -> Response:
    lib = _library(ctx, user)
    folder = lib.category(_path_id(category_id, "category"))
    return _json([_feed_json(lib, sub) for sub in lib.feeds_in(folder.id)])


@router.get("/v1/categories/{category_id}/entries")
def category_entries(ctx: Ctx, user: Reader, category_id: str, request: Request) -> Response:
    return _entry_list(ctx, user, request.query_params, category_id=_path_id(category_id, "category"))


@router.get("/v1/categories/{category_id}/entries/{entry_id}")
def category_entry(ctx: Ctx, user: Reader, category_id: str, entry_id: str) -> Response:
    wanted = _path_id(category_id, "category")
    lib, entry = _one_entry(ctx, user, _path_id(entry_id, "entry"))
    folder = lib.category(wanted)
    sub = lib.subs.get(entry.source_id or 0)
    inside = (
        entry.story_id == folder.story_id
        if folder.story_id is not None
        else sub is not None and lib.category_of(sub) == wanted
    )
    if not inside:
        raise ApiError(404, f"There is no entry {entry.id} in category {wanted}.")
    return _json(_entries_json(lib, [entry])[0])


@router.put("/v1/categories/{category_id}/mark-all-as-read")
def mark_category_read(ctx: Ctx, user: Reader, category_id: str) -> Response:
    lib = _library(ctx, user)
    folder = lib.category(_path_id(category_id, "category"))
    now = ctx.clock()
    ctx.store.library.mark_all_read(user.id, _category_stream(lib, folder), now)
    return _done()


@router.put("/v1/categories/{category_id}/refresh")
def refresh_category(ctx: Ctx, user: Reader, category_id: str) -> Response:
    _library(ctx, user).category(_path_id(category_id, "category"))
    return _done()


# --- feeds ----------------------------------------------------------------------------------------------------


@router.get("/v1/feeds")
def feeds(ctx: Ctx, user: Reader) -> Response:
    lib = _library(ctx, user)
    return _json([_feed_json(lib, sub) for sub in lib.subs.values()])


@router.get("/v1/feeds/counters")
def counters(ctx: Ctx, user: Reader) -> Response:
    """Unread entries per feed, every feed named (0 for none). Read counts are left out: the store counts
    only unread ones, and apps use these."""
    unread = ctx.store.library.unread_counts(user.id)
    subs = ctx.store.library.subscriptions(user.id)
    return _json(
        {"reads": {}, "unreads": {str(s.source_id): unread.get(s.source_id, (0, None))[0] for s in subs}}
    )


@router.put("/v1/feeds/refresh")
def refresh_all(user: Reader) -> Response:
    return _done()


def _category_for(lib: Library, category_id: int | None) -> int:
    """The folder a new or moved feed goes to: the default one when none is named; 400 for a category that is
    not the reader's, or a story's (which holds no feeds)."""
    if category_id is None or category_id == 0:
        return lib.default_id
    folder = lib.folders.get(category_id)
    if folder is None or folder.story_id is not None:
        raise ApiError(400, f"Invalid category ID: you have no category {category_id} that can hold feeds.")
    return folder.id


@router.post("/v1/feeds")
async def create_feed(ctx: Ctx, user: Reader, body: Body) -> Response:
    url = (_wanted_str(body, "feed_url") or "").strip()
    if not url:
        raise ApiError(400, "The feed URL is mandatory.")
    lib = await run_in_threadpool(_library, ctx, user)
    folder_id = _category_for(lib, _wanted_int(body, "category_id"))
    try:
        source_id, _ = await add_feed(ctx, user, url, folder_id)
    except BroadsheetError as exc:
        raise ApiError(400, str(exc)) from exc
    if source_id in lib.subs:
        raise ApiError(400, f"You are subscribed to {url} already (feed {source_id}).")
    return _json({"feed_id": source_id}, 201)


@router.get("/v1/feeds/{feed_id}")
def feed(ctx: Ctx, user: Reader, feed_id: str) -> Response:
    lib = _library(ctx, user)
    return _json(_feed_json(lib, lib.feed(_path_id(feed_id, "feed"))))


@router.put("/v1/feeds/{feed_id}")
def update_feed(ctx: Ctx, user: Reader, feed_id: str, body: Body) -> Response:
    """Rename the feed (an empty title is left alone, as Miniflux) and move it to another category. The other
    fields Miniflux takes (rules, credentials, the address) are the site's, not the reader's: ignored."""
    lib = _library(ctx, user)
    sub = lib.feed(_path_id(feed_id, "feed"))
    title = (_wanted_str(body, "title") or "").strip() or None
    category_id = _wanted_int(body, "category_id")
    folder_id = _category_for(lib, category_id) if category_id else False
    ctx.store.library.edit_subscription(user.id, sub.source_id, title=title, folder_id=folder_id)
    lib = _library(ctx, user)
    return _json(_feed_json(lib, lib.feed(sub.source_id)), 201)


@router.delete("/v1/feeds/{feed_id}")
def delete_feed(ctx: Ctx, user: Reader, feed_id: str) -> Response:
    wanted = _path_id(feed_id, "feed")
    if not ctx.store.library.unsubscribe(user.id, wanted):
        raise ApiError(404, f"You have no feed {wanted}.")
    return _done()


@router.put("/v1/feeds/{feed_id}/refresh")
def refresh_feed(ctx: Ctx, user: Reader, feed_id: str) -> Response:
    _library(ctx, user).feed(_path_id(feed_id, "feed"))
    return _done()


@router.get("/v1/feeds/{feed_id}/icon")
def feed_icon(ctx: Ctx, user: Reader, feed_id: str) -> Response:
    _library(ctx, user).feed(_path_id(feed_id, "feed"))
    raise ApiError(404, "This feed has no icon.")


@router.put("/v1/feeds/{feed_id}/mark-all-as-read")
def mark_feed_read(ctx: Ctx, user: Reader, feed_id: str) -> Response:
    sub = _library(ctx, user).feed(_path_id(feed_id, "feed"))
    ctx.store.library.mark_all_read(user.id, Stream("feed", sub.source_id), ctx.clock())
    return _done()


@router.get("/v1/feeds/{feed_id}/entries")
def feed_entries(ctx: Ctx, user: Reader, feed_id: str, request: Request) -> Response:
    return _entry_list(ctx, user, request.query_params, feed_id=_path_id(feed_id, "feed"))


@router.get("/v1/feeds/{feed_id}/entries/{entry_id}")
def feed_entry(ctx: Ctx, user: Reader, feed_id: str, entry_id: str) -> Response:
    wanted = _path_id(feed_id, "feed")
    lib, entry = _one_entry(ctx, user, _path_id(entry_id, "entry"))
    lib.feed(wanted)
    if entry.source_id != wanted:
        raise ApiError(404, f"There is no entry {entry.id} in feed {wanted}.")
    return _json(_entries_json(lib, [entry])[0])


@router.get("/v1/export")
def export(ctx: Ctx, user: Reader) -> Response:
    from broadsheet.models import Outline
    from broadsheet.sources import write_opml

    lib = _library(ctx, user)
    outlines = [
        Outline(
            url=s.feed_url, title=s.title, site_url=s.site_url, folder=lib.folders[lib.category_of(s)].name
        )
        for s in lib.subs.values()
    ]
    body = write_opml(outlines, title=f"{user.name}'s subscriptions")
    return Response(body, media_type="text/xml; charset=utf-8")


# --- entries --------------------------------------------------------------------------------------------------


@router.get("/v1/entries")
def entries(ctx: Ctx, user: Reader, request: Request) -> Response:
    return _entry_list(ctx, user, request.query_params)


MAX_MARKED = 10_000  # entries one PUT /v1/entries may change (more: another request)


def _entry_ids(body: dict[str, Any]) -> list[int]:
    ids = body.get("entry_ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "The list of entries cannot be empty: send entry_ids, a list of entry ids.")
    if len(ids) > MAX_MARKED:
        raise ApiError(400, f"At most {MAX_MARKED} entries at once: send the rest in another request.")
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= MAX_ID for i in ids):
        raise ApiError(400, "entry_ids must be a list of positive numbers.")
    return list(dict.fromkeys(ids))


def _set_starred(ctx: WebContext, user: User, ids: Sequence[int], starred: bool) -> None:
    now = ctx.clock()
    for entry_id in ids:
        try:
            if starred:
                ctx.store.follows.bookmark(user.id, entry_id, now)
            else:
                ctx.store.follows.unbookmark(user.id, entry_id)
        except NotFoundError:  # an id that names no article: skipped, as unknown ids are when marking
            continue


@router.put("/v1/entries")
def update_entries(ctx: Ctx, user: Reader, body: Body) -> Response:
    """Mark entries read or unread (`status`) and/or star them (`starred`, as Miniflux 2.2 takes it). Ids of no
    entry are skipped."""
    ids = _entry_ids(body)
    status = body.get("status")
    starred = body.get("starred")
    if status is None and starred is None:
        raise ApiError(400, "Either the status or the starred field must be specified.")
    if status is not None and status not in ("read", "unread"):
        raise ApiError(400, 'Invalid entry status: use "read" or "unread".')
    if starred is not None and not isinstance(starred, bool):
        raise ApiError(400, "starred must be true or false.")
    if status is not None:
        ctx.store.library.mark(user.id, ids, status == "read", ctx.clock())
    if starred is not None:
        _set_starred(ctx, user, ids, starred)
    return _done()


@router.get("/v1/entries/{entry_id}")
def entry(ctx: Ctx, user: Reader, entry_id: str) -> Response:
    lib, found = _one_entry(ctx, user, _path_id(entry_id, "entry"))
    return _json(_entries_json(lib, [found])[0])


@router.put("/v1/entries/{entry_id}/bookmark")
def toggle_bookmark(ctx: Ctx, user: Reader, entry_id: str) -> Response:
    wanted = _path_id(entry_id, "entry")
    found = ctx.store.library.entries_by_id(user.id, [wanted])
    if not found:
        raise ApiError(404, f"There is no entry {wanted}.")
    _set_starred(ctx, user, [wanted], not found[0].starred)
    return _done()
