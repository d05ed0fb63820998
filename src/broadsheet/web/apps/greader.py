"""The Google Reader API, as FreshRSS and Miniflux implement it (the subset apps use), at the site's root:
`/accounts/ClientLogin` and `/reader/api/0/...`, plus the Atom streams (`/reader/atom/...`) that FeedHQ-style
clients such as newsboat read.

Apps point at the site's address (e.g. `https://news.example.org`), sign in with the account name and an app
password, and get that password back as their `Auth` token. Folders are labels; each story the reader follows is
a label too (its coverage from every outlet). Read, starred and unread are the reader's own; starred is the
site's bookmark. Stream and item ids: `feed/ID` for a source, `user/-/label/NAME`, the `user/-/state/com.google/`
states; items by the long (`tag:google.com,2005:reader/item/` + 16 hex digits) or short (decimal) form.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.responses import JSONResponse, PlainTextResponse, Response

from broadsheet.errors import BroadsheetError
from broadsheet.store import Entry, EntryQuery, Stream, Subscription, User
from broadsheet.web.apps.common import add_feed, app_password_user, entry_html, ready, story_folders
from broadsheet.web.context import WebContext, get_context

__all__ = [
    "LONG_ID_PREFIX",
    "item_id",
    "long_item_id",
    "parse_stream",
    "router",
]

router = APIRouter(include_in_schema=False)

LONG_ID_PREFIX = "tag:google.com,2005:reader/item/"
STATE = "user/-/state/com.google/"
READING_LIST = STATE + "reading-list"
READ = STATE + "read"
STARRED = STATE + "starred"
KEPT_UNREAD = STATE + "kept-unread"
LABEL = "user/-/label/"
MAX_ITEMS = 1000  # items one stream/contents answer carries
MAX_IDS = 10_000  # item ids one stream/items/ids answer carries
DEFAULT_ITEMS = 20
_ATOM = "http://www.w3.org/2005/Atom"
_GOOGLE_SCHEME = "http://www.google.com/reader/"


# --- ids, pure ---------------------------------------------------------------------------------------------


def long_item_id(entry_id: int) -> str:
    return f"{LONG_ID_PREFIX}{entry_id:016x}"


def item_id(value: str) -> int | None:
    """An item id in any form apps send: the long form (16 hex digits), a decimal, or a decimal read as a signed
    64-bit number (some apps do). None for anything else."""
    text = value.strip()
    long_form = text.startswith(LONG_ID_PREFIX)
    try:
        number = int(text[len(LONG_ID_PREFIX) :], 16) if long_form else int(text, 10)
    except ValueError:
        return None
    if number < 0:
        number += 2**64
    return number if 0 < number < 2**63 else None


def _normal_state(stream_id: str) -> str:
    """`user/1234/state/...` and `user/-/state/...` are one; so are labels."""
    if stream_id.startswith("user/"):
        _, _, rest = stream_id.partition("/")
        _, _, tail = rest.partition("/")
        return "user/-/" + tail
    return stream_id


@dataclass(frozen=True, slots=True)
class Parsed:
    """A stream id, understood: which entries, and whether it stands for the read ones."""

    kind: str  # all | starred | read | label | feed | unknown
    label: str = ""
    feed: str = ""  # a source id, or a feed's address


def parse_stream(stream_id: str) -> Parsed:
    stream = _normal_state(unquote(stream_id.strip()) if "%" in stream_id else stream_id.strip())
    if stream in ("", READING_LIST):
        return Parsed("all")
    if stream == STARRED:
        return Parsed("starred")
    if stream == READ:
        return Parsed("read")
    if stream.startswith(LABEL):
        return Parsed("label", label=stream[len(LABEL) :])
    if stream.startswith("feed/"):
        return Parsed("feed", feed=stream[len("feed/") :])
    return Parsed("unknown")


def _usec(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        return default
    return max(low, min(high, number))


def _time(value: str | None, scale: float) -> datetime | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / scale, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- who: the app password -----------------------------------------------------------------------------------


def _auth_token(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "googlelogin":
        return ""
    key, _, token = rest.strip().partition("=")
    return token.strip() if key.strip().lower() == "auth" else ""


def _edit_token(secret: str) -> str:
    """The `T` token for POSTs: derived from the app password, so nothing is stored and it dies with it."""
    return hashlib.sha256(b"greader-T:" + secret.encode()).hexdigest()[:57]


class _Unauthorized(Exception):
    pass


@dataclass(frozen=True, slots=True)
class App:
    user: User
    secret: str


async def _app(request: Request, ctx: Annotated[WebContext, Depends(get_context)]) -> App:
    secret = _auth_token(request)
    user = await run_in_threadpool(app_password_user, ctx, secret) if secret else None
    if user is None:
        raise _Unauthorized
    await run_in_threadpool(ready, ctx, user)
    return App(user, secret)


Ctx = Annotated[WebContext, Depends(get_context)]
Caller = Annotated[App, Depends(_app)]


def unauthorized(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse(
        "Unauthorized: sign in with your account name and an app password (made on your account page).\n",
        status_code=401,
        headers={"WWW-Authenticate": "GoogleLogin"},
    )


async def _params(request: Request) -> MultiDict:
    """The query's parameters and, for a POST, the form's: apps send either."""
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        # Apps mark thousands of items in one request, each an `i` field (Starlette stops at 1 000 by default).
        form = await request.form(max_fields=MAX_IDS + 100, max_files=0)
        items.extend((key, value) for key, value in form.multi_items() if isinstance(value, str))
    return MultiDict(items)


async def _checked(request: Request, app: App) -> MultiDict:
    """A change's parameters, after its `T` token: a wrong one is refused (a missing one is accepted, as other
    servers do: the Authorization header is no cookie, so no other site can make a browser send it)."""
    params = await _params(request)
    sent = (params.get("T") or "").strip()
    if sent and sent != _edit_token(app.secret):
        raise _BadToken
    return params


class _BadToken(Exception):
    pass


def bad_token(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse(
        "Unauthorized: the T token is not this app password's; get a new one from /reader/api/0/token.\n",
        status_code=401,
        headers={"X-Reader-Google-Bad-Token": "true"},
    )


def _json(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


# --- signing in ----------------------------------------------------------------------------------------------


@router.api_route("/accounts/ClientLogin", methods=["GET", "POST"])
async def client_login(request: Request, ctx: Ctx) -> Response:
    params = await _params(request)
    name = params.get("Email") or ""
    secret = params.get("Passwd") or ""
    user = await run_in_threadpool(app_password_user, ctx, secret, name) if name and secret else None
    if user is None:
        return _text("Error=BadAuthentication\n", 401)
    return _text(f"SID={secret}\nLSID=none\nAuth={secret}\n")


@router.get("/reader/api/0/token")
async def token(app: Caller) -> Response:
    return _text(_edit_token(app.secret))


@router.get("/reader/api/0/user-info")
async def user_info(app: Caller) -> Response:
    user = app.user
    return _json({
        "userId": str(user.id), "userName": user.name, "userProfileId": str(user.id),
        "userEmail": "", "isBloggerUser": False, "signupTimeSec": int(user.created_at.timestamp()),
        "isMultiLoginEnabled": False,
    })  # fmt: skip


# --- subscriptions and labels --------------------------------------------------------------------------------


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    categories = [{"id": LABEL + sub.folder, "label": sub.folder}] if sub.folder else []
    return {
        "id": f"feed/{sub.source_id}", "title": sub.title, "categories": categories,
        "url": sub.feed_url, "htmlUrl": sub.site_url or sub.feed_url, "iconUrl": "",
        "sortid": f"{sub.source_id:08X}", "firstitemmsec": str(int(sub.created_at.timestamp() * 1000)),
    }  # fmt: skip


@router.get("/reader/api/0/subscription/list")
def subscription_list(ctx: Ctx, app: Caller) -> Response:
    subs = ctx.store.library.subscriptions(app.user.id)
    return _json({"subscriptions": [_subscription_json(sub) for sub in subs]})


@router.get("/reader/api/0/subscription/export")
def subscription_export(ctx: Ctx, app: Caller) -> Response:
    from broadsheet.models import Outline
    from broadsheet.sources import write_opml

    subs = ctx.store.library.subscriptions(app.user.id)
    outlines = [Outline(url=s.feed_url, title=s.title, site_url=s.site_url, folder=s.folder) for s in subs]
    body = write_opml(outlines, title=f"{app.user.name}'s subscriptions")
    return Response(
        body, media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscriptions.opml"'},
    )  # fmt: skip


@router.get("/reader/api/0/tag/list")
def tag_list(ctx: Ctx, app: Caller) -> Response:
    tags: list[dict[str, Any]] = [{"id": STARRED, "sortid": "A0000001"}]
    for folder in story_folders(ctx, app.user):
        kind = "tag" if folder.story_id is not None else "folder"
        tags.append({"id": LABEL + folder.name, "sortid": f"{folder.id:08X}", "type": kind})
    return _json({"tags": tags})


def _feed_id(ctx: WebContext, user: User, value: str) -> int | None:
    """The subscribed source `feed/…` names, by id or by address."""
    text = value[len("feed/") :] if value.startswith("feed/") else value
    if text.isdigit() and len(text) < 19:
        return int(text) if ctx.store.library.subscriptions(user.id, int(text)) else None
    for sub in ctx.store.library.subscriptions(user.id):
        if sub.feed_url == text:
            return sub.source_id
    return None


def _label(value: str) -> str:
    text = _normal_state(value.strip())
    return text[len(LABEL) :] if text.startswith(LABEL) else text


@router.post("/reader/api/0/subscription/edit")
async def subscription_edit(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    try:
        return await _subscription_edit(ctx, app, params)
    except ValueError as exc:  # a folder name the library refuses
        return _text(f"{exc}\n", 400)


async def _subscription_edit(ctx: WebContext, app: App, params: MultiDict) -> Response:
    action = params.get("ac") or "edit"
    streams = params.getlist("s")
    title = params.get("t")
    add = [_label(v) for v in params.getlist("a") if _label(v)]
    remove = [_label(v) for v in params.getlist("r") if _label(v)]
    if not streams:
        return _text("Missing s: name the feed (feed/ID, or feed/ and its address).\n", 400)
    for stream in streams:
        if action == "subscribe":
            folder_id = await run_in_threadpool(_folder_for, ctx, app.user, add[0]) if add else None
            try:
                await add_feed(ctx, app.user, stream, folder_id)
            except BroadsheetError as exc:
                return _text(f"{exc}\n", 400)
            if title:
                source_id = await run_in_threadpool(_feed_id, ctx, app.user, stream)
                if source_id is not None:
                    await run_in_threadpool(
                        ctx.store.library.edit_subscription, app.user.id, source_id, title=title
                    )
            continue
        source_id = await run_in_threadpool(_feed_id, ctx, app.user, stream)
        if source_id is None:
            return _text(f"You are not subscribed to {stream}.\n", 404)
        if action == "unsubscribe":
            await run_in_threadpool(ctx.store.library.unsubscribe, app.user.id, source_id)
        elif action == "edit":
            await run_in_threadpool(_edit, ctx, app.user, source_id, title, add, remove)
        else:
            return _text(f"Unknown ac={action!r}: use subscribe, unsubscribe or edit.\n", 400)
    return _text("OK")


def _folder_for(ctx: WebContext, user: User, name: str) -> int:
    return ctx.store.library.add_folder(user.id, name, ctx.clock())


def _edit(
    ctx: WebContext, user: User, source_id: int, title: str | None, add: list[str], remove: list[str]
) -> None:
    library = ctx.store.library
    if add:
        library.edit_subscription(user.id, source_id, title=title, folder_id=_folder_for(ctx, user, add[0]))
    elif remove:
        current = library.subscriptions(user.id, source_id)
        if current and current[0].folder in remove:
            library.edit_subscription(user.id, source_id, title=title, folder_id=None)
        elif title is not None:
            library.edit_subscription(user.id, source_id, title=title)
    elif title is not None:
        library.edit_subscription(user.id, source_id, title=title)


@router.post("/reader/api/0/subscription/quickadd")
async def quickadd(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    url = (params.get("quickadd") or "").strip()
    try:
        source_id, title = await add_feed(ctx, app.user, url)
    except BroadsheetError as exc:
        return _json({"numResults": 0, "query": url, "error": str(exc)}, 400)
    return _json({"numResults": 1, "query": url, "streamId": f"feed/{source_id}", "streamName": title})


@router.post("/reader/api/0/rename-tag")
async def rename_tag(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    old, new = _label(params.get("s") or params.get("t") or ""), _label(params.get("dest") or "")
    folder = await run_in_threadpool(ctx.store.library.folder_named, app.user.id, old)
    if folder is None:
        return _text(f"You have no label {old!r}.\n", 404)
    if folder.story_id is not None:
        return _text("A followed story's label is named after the story; it cannot be renamed.\n", 400)
    try:
        await run_in_threadpool(ctx.store.library.rename_folder, app.user.id, folder.id, new)
    except ValueError as exc:
        return _text(f"{exc}\n", 400)
    return _text("OK")


@router.post("/reader/api/0/disable-tag")
async def disable_tag(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    name = _label(params.get("s") or params.get("t") or "")
    folder = await run_in_threadpool(ctx.store.library.folder_named, app.user.id, name)
    if folder is None:
        return _text(f"You have no label {name!r}.\n", 404)
    if folder.story_id is not None:  # removing a story's label stops following the story
        await run_in_threadpool(ctx.store.follows.unfollow, app.user.id, "story", str(folder.story_id))
    await run_in_threadpool(ctx.store.library.remove_folder, app.user.id, folder.id)
    return _text("OK")


# --- counts --------------------------------------------------------------------------------------------------


@router.get("/reader/api/0/unread-count")
def unread_count(ctx: Ctx, app: Caller) -> Response:
    user = app.user
    folders = story_folders(ctx, user)
    counts = ctx.store.library.unread_counts(user.id)
    subs = ctx.store.library.subscriptions(user.id)
    rows: list[dict[str, Any]] = []
    by_folder: dict[str, tuple[int, datetime | None]] = {}
    total, newest_all = 0, None
    for sub in subs:
        count, newest = counts.get(sub.source_id, (0, None))
        if not count:
            continue
        rows.append(_count(f"feed/{sub.source_id}", count, newest))
        total += count
        newest_all = _later(newest_all, newest)
        if sub.folder:
            held, when = by_folder.get(sub.folder, (0, None))
            by_folder[sub.folder] = (held + count, _later(when, newest))
    # A label also holds the entries labelled with it one by one: the unread ones its feeds do not hold already.
    folder_of = {sub.source_id: sub.folder for sub in subs}
    for folder in folders:
        if folder.story_id is not None or not ctx.store.library.labelled_count(user.id, folder.id):
            continue
        query = EntryQuery(Stream("labelled", folder.id), read=False, limit=MAX_IDS)
        extra = [(fetched, source) for _, fetched, source in ctx.store.library.entry_ids(user.id, query)
                 if folder_of.get(source or 0) != folder.name]  # fmt: skip
        if extra:
            held, when = by_folder.get(folder.name, (0, None))
            by_folder[folder.name] = (held + len(extra), _later(when, max(fetched for fetched, _ in extra)))
    rows.extend(_count(LABEL + name, count, when) for name, (count, when) in by_folder.items())
    stories = {f.story_id: f.name for f in folders if f.story_id is not None}
    for story_id, (count, when) in ctx.store.library.story_unread(user.id, list(stories)).items():
        rows.append(_count(LABEL + stories[story_id], count, when))
    rows.append(_count(READING_LIST, total, newest_all))
    return _json({"max": total, "unreadcounts": rows})


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


def _count(stream_id: str, count: int, newest: datetime | None) -> dict[str, Any]:
    return {"id": stream_id, "count": count, "newestItemTimestampUsec": str(_usec(newest) if newest else 0)}


# --- streams ---------------------------------------------------------------------------------------------------


def _query(ctx: WebContext, user: User, params: MultiDict, stream_id: str, limit: int) -> EntryQuery | None:
    """What a stream request asks for; None for a stream the reader does not have (an empty answer)."""
    parsed = parse_stream(stream_id)
    read: bool | None = None
    stream = Stream("all")
    if parsed.kind == "starred":
        stream = Stream("starred")
    elif parsed.kind == "read":
        read = True
    elif parsed.kind == "label":
        folder = ctx.store.library.folder_named(user.id, parsed.label)
        if folder is None:
            return None
        stream = (
            Stream("story", folder.story_id) if folder.story_id is not None else Stream("folder", folder.id)
        )
    elif parsed.kind == "feed":
        source_id = _feed_id(ctx, user, "feed/" + parsed.feed)
        if source_id is None:
            return None
        stream = Stream("feed", source_id)
    elif parsed.kind == "unknown":
        return None
    for target in params.getlist("xt"):
        state = _normal_state(target)
        if state == READ:
            read = False
        elif state == STARRED:
            return EntryQuery(stream, read=read, starred=False, limit=limit, **_window(params))
    starred: bool | None = None
    for target in params.getlist("it"):
        state = _normal_state(target)
        if state == READ:
            read = True
        elif state == STARRED:
            starred = True
        elif state == KEPT_UNREAD:
            read = False
    return EntryQuery(stream, read=read, starred=starred, limit=limit, **_window(params))


def _window(params: MultiDict) -> dict[str, Any]:
    continuation = item_id(params.get("c") or "") if params.get("c") else None
    return {
        "newest_first": (params.get("r") or "n") != "o",
        "after_id": continuation,
        "since": _time(params.get("ot"), 1),
        "until": _time(params.get("nt"), 1),
    }


@dataclass(frozen=True, slots=True)
class Labels:
    """What an answer's items need to name their labels: the reader's subscriptions (for each source's
    folder), followed stories' folders, folder names, and the labels put on the items one by one."""

    subs: dict[int, Subscription]
    stories: dict[int, str]  # story id -> its folder's name
    names: dict[int, str]  # folder id -> name
    on_items: dict[int, list[int]]  # entry id -> folder ids


def _labels(ctx: WebContext, user: User, entries: Sequence[Entry] = ()) -> Labels:
    subs = {sub.source_id: sub for sub in ctx.store.library.subscriptions(user.id)}
    folders = ctx.store.library.folders(user.id)
    stories = {f.story_id: f.name for f in folders if f.story_id is not None}
    on_items = ctx.store.library.labels_of(user.id, [e.id for e in entries]) if entries else {}
    return Labels(subs, stories, {f.id: f.name for f in folders}, on_items)


def _categories(entry: Entry, labels: Labels) -> list[str]:
    found = [READING_LIST]
    sub = labels.subs.get(entry.source_id or 0)
    if sub is not None and sub.folder:
        found.append(LABEL + sub.folder)
    if entry.story_id is not None and entry.story_id in labels.stories:
        found.append(LABEL + labels.stories[entry.story_id])
    for folder_id in labels.on_items.get(entry.id, ()):
        name = labels.names.get(folder_id)
        if name and LABEL + name not in found:
            found.append(LABEL + name)
    if entry.read:
        found.append(READ)
    if entry.starred:
        found.append(STARRED)
    return found


def _labelled(ctx: WebContext, user: User, query: EntryQuery) -> EntryQuery | None:
    """For a folder's stream, the query of the entries labelled with it one by one (None when there are none:
    the usual case, which costs one count)."""
    if query.stream.kind != "folder" or not ctx.store.library.labelled_count(user.id, query.stream.key):
        return None
    return replace(query, stream=Stream("labelled", query.stream.key))


def _fetch(ctx: WebContext, user: User, query: EntryQuery) -> list[Entry]:
    """A stream's entries; a label's are its feeds' and the entries labelled with it, merged in order."""
    entries = ctx.store.library.entries(user.id, query)
    labelled = _labelled(ctx, user, query)
    if labelled is None:
        return entries
    merged = {e.id: e for e in [*entries, *ctx.store.library.entries(user.id, labelled)]}
    order = sorted(merged, reverse=query.newest_first)
    return [merged[i] for i in order[: query.limit]]


def _fetch_ids(ctx: WebContext, user: User, query: EntryQuery) -> list[int]:
    ids = ctx.store.library.ids(user.id, query)
    labelled = _labelled(ctx, user, query)
    if labelled is None:
        return ids
    return sorted({*ids, *ctx.store.library.ids(user.id, labelled)}, reverse=query.newest_first)[
        : query.limit
    ]


def _item_json(entry: Entry, labels: Labels) -> dict[str, Any]:
    sub = labels.subs.get(entry.source_id or 0)
    origin_title = sub.title if sub is not None else entry.outlet
    return {
        "id": long_item_id(entry.id),
        "crawlTimeMsec": str(_usec(entry.fetched_at) // 1000),
        "timestampUsec": str(_usec(entry.fetched_at)),
        "published": int(entry.shown_time.timestamp()),
        "updated": int((entry.updated or entry.shown_time).timestamp()),
        "title": entry.title,
        "author": entry.author,
        "summary": {"direction": "ltr", "content": entry_html(entry)},
        "canonical": [{"href": entry.url}],
        "alternate": [{"href": entry.url, "type": "text/html"}],
        "categories": _categories(entry, labels),
        "origin": {
            "streamId": f"feed/{entry.source_id}" if entry.source_id else "",
            "title": origin_title,
            "htmlUrl": sub.site_url if sub is not None else "",
        },
    }


def _items(ctx: WebContext, user: User, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    labels = _labels(ctx, user, entries)
    return [_item_json(entry, labels) for entry in entries]


def _stream_contents(ctx: WebContext, user: User, params: MultiDict, stream_id: str) -> Response:
    limit = _int(params.get("n"), DEFAULT_ITEMS, 1, MAX_ITEMS)
    query = _query(ctx, user, params, stream_id, limit)
    entries = _fetch(ctx, user, query) if query is not None else []
    body: dict[str, Any] = {
        "id": stream_id or READING_LIST,
        "updated": int(time.time()),
        "items": _items(ctx, user, entries),
    }
    if query is not None and len(entries) == limit:
        body["continuation"] = str(entries[-1].id)
    return _json(body)


@router.get("/reader/api/0/stream/contents")
@router.get("/reader/api/0/stream/contents/{stream_id:path}")
async def stream_contents(request: Request, ctx: Ctx, app: Caller, stream_id: str = "") -> Response:
    params = await _params(request)
    return await run_in_threadpool(
        _stream_contents, ctx, app.user, params, stream_id or params.get("s") or ""
    )


def _item_ids(ctx: WebContext, user: User, params: MultiDict) -> Response:
    limit = _int(params.get("n"), DEFAULT_ITEMS, 1, MAX_IDS)
    query = _query(ctx, user, params, params.get("s") or READING_LIST, limit)
    found = _fetch_ids(ctx, user, query) if query is not None else []
    # Ids only, as Miniflux answers (apps fetch the items themselves): no row read past its first columns, and
    # 10 000 references written as one string rather than 10 000 dictionaries through the JSON encoder.
    refs = ",".join(f'{{"id":"{entry_id}"}}' for entry_id in found)
    more = f',"continuation":"{found[-1]}"' if query is not None and len(found) == limit else ""
    return Response(f'{{"itemRefs":[{refs}]{more}}}', media_type="application/json")


@router.api_route("/reader/api/0/stream/items/ids", methods=["GET", "POST"])
async def item_ids(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _params(request)
    return await run_in_threadpool(_item_ids, ctx, app.user, params)


def _ids(values: Iterable[str]) -> list[int]:
    found = [item_id(v) for v in values]
    return [i for i in found if i is not None]


def _item_contents(ctx: WebContext, user: User, ids: list[int]) -> Response:
    entries = ctx.store.library.entries_by_id(user.id, ids[:MAX_ITEMS])
    return _json({"id": READING_LIST, "updated": int(time.time()), "items": _items(ctx, user, entries)})


@router.api_route("/reader/api/0/stream/items/contents", methods=["GET", "POST"])
async def item_contents(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _params(request)
    return await run_in_threadpool(_item_contents, ctx, app.user, _ids(params.getlist("i")))


# --- changing state ------------------------------------------------------------------------------------------


def _edit_tags(ctx: WebContext, user: User, ids: list[int], add: list[str], remove: list[str]) -> None:
    now = ctx.clock()
    library, follows = ctx.store.library, ctx.store.follows
    for name in (v[len(LABEL) :] for v in add if v.startswith(LABEL)):  # a label of the reader's, made if new
        folder = library.folder_named(user.id, name)
        folder_id = folder.id if folder is not None else library.add_folder(user.id, name, now)
        if folder is None or folder.story_id is None:  # a story's label holds its coverage, not picks
            library.label(user.id, ids, folder_id, now)
    for name in (v[len(LABEL) :] for v in remove if v.startswith(LABEL)):
        folder = library.folder_named(user.id, name)
        if folder is not None:
            library.unlabel(user.id, ids, folder.id)
    if READ in add or KEPT_UNREAD in remove:
        library.mark(user.id, ids, True, now)
    elif READ in remove or KEPT_UNREAD in add:
        library.mark(user.id, ids, False, now)
    if STARRED in add:
        for entry in library.entries_by_id(user.id, ids):
            follows.bookmark(user.id, entry.id, now)
    elif STARRED in remove:
        for entry_id in ids:
            follows.unbookmark(user.id, entry_id)


@router.post("/reader/api/0/edit-tag")
async def edit_tag(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    ids = _ids(params.getlist("i"))
    if not ids:
        return _text("Missing i: name the items (long or short ids).\n", 400)
    if len(ids) > MAX_IDS:
        return _text(f"At most {MAX_IDS} items at once: send the rest in another request.\n", 400)
    add = [_normal_state(v) for v in params.getlist("a")]
    remove = [_normal_state(v) for v in params.getlist("r")]
    try:
        await run_in_threadpool(_edit_tags, ctx, app.user, ids, add, remove)
    except ValueError as exc:  # a label name the library refuses
        return _text(f"{exc}\n", 400)
    return _text("OK")


def _mark_all(ctx: WebContext, user: User, stream_id: str, before: datetime | None) -> bool:
    query = _query(ctx, user, MultiDict(), stream_id, 1)
    if query is None:
        return False
    ctx.store.library.mark_all_read(user.id, query.stream, ctx.clock(), before)
    labelled = _labelled(ctx, user, replace(query, limit=MAX_IDS, until=before))
    if labelled is not None:  # a label's own entries too
        ctx.store.library.mark(user.id, ctx.store.library.ids(user.id, labelled), True, ctx.clock())
    return True


@router.post("/reader/api/0/mark-all-as-read")
async def mark_all_as_read(request: Request, ctx: Ctx, app: Caller) -> Response:
    params = await _checked(request, app)
    stream_id = params.get("s") or READING_LIST
    if parse_stream(stream_id).kind == "read":
        return _text("OK")
    before = _time(params.get("ts"), 1_000_000)
    if not await run_in_threadpool(_mark_all, ctx, app.user, stream_id, before):
        return _text(f"You have no stream {stream_id!r}.\n", 404)
    return _text("OK")


# --- Atom streams (FeedHQ's, which newsboat reads) -------------------------------------------------------------


def _atom(ctx: WebContext, user: User, params: MultiDict, stream_id: str) -> Response:
    limit = _int(params.get("n"), DEFAULT_ITEMS, 1, MAX_ITEMS)
    query = _query(ctx, user, params, stream_id, limit)
    entries = _fetch(ctx, user, query) if query is not None else []
    labels = _labels(ctx, user, entries)
    title = "Reading list"
    parsed = parse_stream(stream_id)
    if parsed.kind == "feed" and query is not None and query.stream.key in labels.subs:
        title = labels.subs[query.stream.key].title
    elif parsed.kind == "label":
        title = parsed.label
    feed = etree.Element(f"{{{_ATOM}}}feed", nsmap={None: _ATOM})
    _sub(feed, "title", title)
    _sub(feed, "id", f"{ctx.settings.base_url.rstrip('/')}/reader/atom/{stream_id}")
    _sub(feed, "updated", _rfc3339(entries[0].fetched_at if entries else ctx.clock()))
    for entry in entries:
        item = _sub(feed, "entry")
        _sub(item, "id", long_item_id(entry.id))
        _sub(item, "title", entry.title)
        _sub(item, "link", rel="alternate", type="text/html", href=entry.url)
        _sub(item, "published", _rfc3339(entry.shown_time))
        _sub(item, "updated", _rfc3339(entry.updated or entry.shown_time))
        if entry.author:
            _sub(_sub(item, "author"), "name", entry.author)
        _sub(item, "content", entry_html(entry), type="html")
        for category in _categories(entry, labels):
            label = category.rsplit("/", 1)[-1] if category.startswith(STATE) else category[len(LABEL) :]
            if category == READING_LIST:
                continue
            _sub(item, "category", term=category, scheme=_GOOGLE_SCHEME, label=label)
        if not entry.read:
            _sub(item, "category", term=STATE + "fresh", scheme=_GOOGLE_SCHEME, label="fresh")
    body = etree.tostring(feed, xml_declaration=True, encoding="utf-8")
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/reader/atom")
@router.get("/reader/atom/{stream_id:path}")
async def atom(request: Request, ctx: Ctx, app: Caller, stream_id: str = "") -> Response:
    params = await _params(request)
    return await run_in_threadpool(_atom, ctx, app.user, params, stream_id or READING_LIST)


_XML_INVALID = str.maketrans({c: None for c in [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF]})


def _sub(parent: Any, tag: str, text: str = "", **attrs: str) -> Any:
    child = etree.SubElement(
        parent, f"{{{_ATOM}}}{tag}", {k: v.translate(_XML_INVALID) for k, v in attrs.items()}
    )
    if text:
        child.text = text.translate(_XML_INVALID)
    return child


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
