"""What the reader-app APIs share: the app password however a protocol carries it, the reader's library set up
on first use, followed stories as folders, and adding a feed by its address.

App passwords, not account passwords: an app keeps its password on a phone, so each app gets its own (made on the
account page or with `broadsheet user app-password`), revocable alone, checked with one indexed lookup instead of
a deliberately slow argon2 hash on every request.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta

from broadsheet.errors import BroadsheetError, NotFoundError
from broadsheet.readers.names import Role
from broadsheet.readers.tokens import fever_key, new_app_password, token_hash
from broadsheet.store import Entry, Folder, Store, User
from broadsheet.web.cache import APP_PREFIXES
from broadsheet.web.context import WebContext

__all__ = [
    "APP_PREFIXES",
    "MAX_SECRET",
    "STORY_FOLDER_PREFIX",
    "add_feed",
    "app_password_user",
    "backlog_before",
    "entry_html",
    "make_app_password",
    "ready",
    "story_folders",
]

log = logging.getLogger(__name__)

MAX_SECRET = 200  # longer passwords or tokens are none of ours: not looked up
STORY_FOLDER_PREFIX = "Story: "


def make_app_password(store: Store, user: User, label: str, now: datetime) -> str:
    """A new app password for the account, labelled (e.g. "Reeder on my phone"): shown once, stored as hashes
    (its own, and its Fever key's)."""
    password = new_app_password()
    store.accounts.add_token(
        user.id, "app", token_hash(password), label.strip()[:100], now,
        fever_hash=token_hash(fever_key(user.name, password)),
    )  # fmt: skip
    return password


def app_password_user(ctx: WebContext, password: str, name: str | None = None) -> User | None:
    """The account whose app password this is (and whose name is `name`, when the protocol sends one, case
    ignored); None otherwise. Tokens also pass: an API token works wherever an app password does."""
    secret = password.strip()
    if not secret or len(secret) > MAX_SECRET:
        return None
    user = ctx.store.accounts.token_user(token_hash(secret), ("app", "api"), ctx.clock())
    if user is None or (name is not None and name.strip().casefold() != user.name.casefold()):
        return None
    return user


def entry_html(entry: Entry) -> str:
    """An entry's body for an app: the article's cleaned HTML (else its description, escaped), with the lead
    image first when the body does not show it already."""
    body = entry.html or (f"<p>{html.escape(entry.description)}</p>" if entry.description else "")
    if entry.image and entry.image not in body:
        alt = html.escape(entry.title, quote=True)
        body = f'<p><img src="{html.escape(entry.image, quote=True)}" alt="{alt}"></p>' + body
    return body


def backlog_before(ctx: WebContext) -> datetime:
    """New subscriptions count articles fetched before this as read."""
    return ctx.clock() - timedelta(days=ctx.settings.app_backlog_days)


def ready(ctx: WebContext, user: User) -> None:
    """Set up the reader's library the first time any reader app asks: subscribed to every source of the site."""
    if user.library_at is None:
        ctx.store.library.ensure_library(user.id, ctx.clock(), backlog_before(ctx))


def story_folders(ctx: WebContext, user: User) -> list[Folder]:
    """The reader's folders, after making one per story they follow ("Story: " and the story's title when
    followed) and removing those of stories no longer followed. A merged story's folder follows it to the story
    it joined."""
    now = ctx.clock()
    wanted: dict[int, str] = {}
    for follow in ctx.store.follows.follows(user.id):
        if follow.kind != "story" or follow.mute or not follow.key.isdigit():
            continue
        try:
            story = ctx.store.stories.follow_merges(int(follow.key), now)
        except NotFoundError:
            continue
        wanted.setdefault(story.id, (STORY_FOLDER_PREFIX + (follow.name or story.title))[:200])
    ctx.store.library.sync_story_folders(user.id, wanted, now)
    return ctx.store.library.folders(user.id)


async def add_feed(ctx: WebContext, user: User, url: str, folder_id: int | None = None) -> tuple[int, str]:
    """Subscribe the reader to the feed at `url`: (source id, title). A source of the site already (by its feed
    address, or its site's) is subscribed to; a new one is added to the site when the reader is an admin, and
    refused otherwise (the site's sources are the operator's). BroadsheetError says what went wrong."""
    from broadsheet.fetch import Fetcher
    from broadsheet.pipeline.subscribe import resolve_source, subscribe

    address = url.strip()
    if address.startswith("feed/"):
        address = address[len("feed/") :]
    if not address.startswith(("http://", "https://")):
        raise BroadsheetError(
            f"{address!r} is not a feed's address: give one starting with http:// or https://"
        )
    source = ctx.store.sources.find_by_url(address)
    if source is None:
        bare = address.rstrip("/")
        source = next(
            (s for s in ctx.store.sources.all() if bare in (s.url.rstrip("/"), s.site_url.rstrip("/"))), None
        )
    if source is None:
        if user.role != Role.ADMIN:
            raise BroadsheetError(
                f"{address} is not among this site's sources, and only an admin adds sources: ask the operator "
                "to add it (the admin page, or `broadsheet source add`)"
            )
        async with Fetcher(ctx.settings) as fetcher:
            resolved = await resolve_source(address, fetcher)
        source = subscribe(ctx.store, resolved, ctx.settings, folder="", now=ctx.clock())
        log.info("reader apps: %s added source %s", user.name, source.url)
    ctx.store.library.subscribe(
        user.id, source.id, ctx.clock(), backlog_before=backlog_before(ctx), folder_id=folder_id
    )
    return source.id, source.title or source.url
