"""What every request handler needs, built once per app: settings, store, templates, signing key, clock.

Handlers get it through the typed dependency `Ctx`; `render` fills the context every template shares.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.models import OutletInfo
from broadsheet.pipeline.briefs import StoryQuestions
from broadsheet.pipeline.enrich import EnrichModels
from broadsheet.slugs import slugify
from broadsheet.store import Store
from broadsheet.text import strip_controls
from broadsheet.web import languages, timefmt
from broadsheet.web.cache import PageCache
from broadsheet.web.identity import reader_of
from broadsheet.web.passwords import PasswordWork
from broadsheet.web.ratelimit import RateLimit
from broadsheet.web.security import csrf_token, proxied_image, request_identity

__all__ = ["MAX_ID", "Ctx", "PathId", "WebContext", "get_context"]

TEMPLATES = Path(__file__).parent / "templates"
# nh3 writes every attribute as name="value", so an image's source is found without parsing the page again.
_IMG_SRC = re.compile(r'(<img\b(?:"[^"]*"|[^>"])*?\ssrc=")([^"]*)(")')  # a ">" may sit inside a value
OUTLETS_TTL = 60.0
T = TypeVar("T")


def _no_crawler() -> None:
    """`wake_crawler` of a process whose crawler runs elsewhere: pushed sources wait for their schedule."""


@dataclass
class WebContext:
    settings: Settings
    store: Store
    secret: bytes
    clock: Callable[[], datetime] = utcnow
    templates: Jinja2Templates = field(init=False)
    zone: ZoneInfo = field(init=False)
    page_cache: PageCache = field(init=False)
    _outlets: tuple[float, list[OutletInfo]] | None = field(default=None, init=False)
    _icons: tuple[float, dict[str, str]] | None = field(default=None, init=False)  # by outlet list read
    _options: tuple[float, str] | None = field(
        default=None, init=False
    )  # (when the outlets were read, options)
    questions: StoryQuestions = field(
        init=False
    )  # "ask about this story"; its model loads on the first question
    question_limit: RateLimit = field(init=False)
    login_limit: RateLimit = field(init=False)  # sign-in and sign-up attempts per client address
    comment_limit: RateLimit = field(
        init=False
    )  # comments per reader ("u:<id>") and per address ("a:<addr>")
    passwords: PasswordWork = field(init=False)  # argon2id hashes, off the page threads
    # Polls what a WebSub hub just pushed without waiting for the crawler's next wake-up; set by the crawler
    # running in this process (web/app.py), a no-op otherwise (workers poll pushed sources on their schedule).
    wake_crawler: Callable[[], None] = field(default_factory=lambda: _no_crawler, init=False)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.settings.time_zone)
        models = EnrichModels(self.settings)
        self.questions = StoryQuestions(self.store, lambda: models.embedder)
        self.question_limit = RateLimit(self.settings.questions_per_minute, burst=5)
        self.login_limit = RateLimit(self.settings.logins_per_minute, burst=5)
        # Bursts of 10, or of ten seconds' worth when the operator allows more than 60 a minute.
        per_minute = self.settings.comments_per_minute
        self.comment_limit = RateLimit(per_minute, burst=max(10, int(per_minute / 6)))
        self.passwords = PasswordWork()
        self.page_cache = PageCache(
            self.settings.page_cache_mb * 2**20,
            self.settings.page_cache_seconds,
            stale=self.settings.page_cache_stale_seconds,
        )
        # auto_reload off: templates change only with the package, and checking costs a stat() per template per page.
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,
            finalize=shown,
        )
        self.templates = Jinja2Templates(env=env)
        env.filters["iso"] = timefmt.iso
        env.filters["absolute"] = lambda moment: timefmt.absolute_time(moment, self.zone)
        env.filters["ago"] = lambda moment: timefmt.relative_time(moment, self.clock(), self.zone)
        env.filters["reading_minutes"] = timefmt.reading_minutes
        env.filters["slug"] = slugify
        env.filters["img"] = self.image_url
        env.filters["body_images"] = self.body_images
        # Written in Python rather than as template macros: every card calls them, and a macro call costs
        # several times as much.
        env.filters["when"] = self.when
        env.filters["badge"] = self.badge
        env.filters["lang_label"] = languages.label
        env.filters["lang_attr"] = lambda code: languages.lang_attribute(code, self.settings.site_language)

    async def run_db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`work(*args)` (database reads and writes) from an async handler, on a worker thread: a database
        server's round trips, and SQLite's wait for another writer, must not stall the event loop."""
        return await run_in_threadpool(work, *args, **kwargs)

    def llm_writes(self, task: str) -> bool:
        """Whether the optional LLM's text for `task` (summary, brief, answer) is shown: it is on and asked
        to write it. Turned off, what it wrote before is no longer shown."""
        return bool(self.settings.llm_url) and task in self.settings.llm_rewrite

    def image_url(self, url: str) -> str:
        """A publisher's image as the page should reference it: through the proxy when that is on."""
        return proxied_image(self.secret, url) if self.settings.proxy_images else url

    def body_images(self, html: str) -> Markup:
        """Stored (sanitised) article HTML, its images pointed at the proxy when that is on: with the proxy's
        Content-Security-Policy, an image left pointing at the publisher would not load at all."""
        if not self.settings.proxy_images:
            return Markup(html)

        def swap(match: re.Match[str]) -> str:
            url = unescape(match.group(2))
            return match.group(1) + str(escape(self.image_url(url))) + match.group(3)

        return Markup(_IMG_SRC.sub(swap, html))

    def _outlet_snapshot(self) -> tuple[float, list[OutletInfo]]:
        """(when read, the outlet list) as one pair: another thread may replace it meanwhile."""
        self.outlets()
        assert self._outlets is not None
        return self._outlets

    def outlets(self) -> list[OutletInfo]:
        """The outlet list shown beside pages; counting every article's outlet costs tens of ms at 200 000
        articles, so it is recomputed at most once a minute."""
        now = time.monotonic()
        if self._outlets is None or now - self._outlets[0] > OUTLETS_TTL:
            self._outlets = (now, self.store.reads.outlets())
        return self._outlets[1]

    def when(self, moment: datetime | None) -> Markup:
        """`<time>` with the relative time shown ("18 minutes ago") and the full local time on hover."""
        if moment is None:
            return Markup("")
        iso = escape(timefmt.iso(moment))
        full = escape(timefmt.absolute_time(moment, self.zone))
        ago = escape(timefmt.relative_time(moment, self.clock(), self.zone))
        return Markup(f'<time datetime="{iso}" title="{full}">{ago}</time>')

    def icons(self) -> dict[str, str]:
        """Outlet icons by slug, from the outlet list (so read again at most once a minute, with it)."""
        read_at, outlets = self._outlet_snapshot()
        if self._icons is None or self._icons[0] != read_at:
            self._icons = (read_at, {o.slug: o.icon for o in outlets if o.icon})
        return self._icons[1]

    def badge(self, name: str | None, slug: str | None = None) -> Markup:
        """The outlet's icon (through the image proxy when that is on) if its pages name one, else its
        initial. Decorative either way: the outlet's name is written beside it."""
        icon = self.icons().get(slug) if slug else None
        if icon:
            src = escape(self.image_url(icon))
            return Markup(f'<img class="badge" src="{src}" alt="" width="20" height="20" loading="lazy">')
        return letter_badge(name)

    def outlet_options(self, selected: str) -> Markup:
        """The search form's outlet choices (every outlet) as <option> elements, `selected` marked. Written once
        per outlet list: looping over hundreds of outlets in the template took half of a search page's time."""
        read_at, outlets = self._outlet_snapshot()
        if self._options is None or self._options[0] != read_at:
            html = "".join(
                f'<option value="{escape(o.slug)}">{escape(shown(o.name))}</option>' for o in outlets
            )
            self._options = (read_at, html)
        html = self._options[1]
        if selected:
            mark = f'<option value="{escape(selected)}">'
            html = html.replace(mark, mark[:-1] + " selected>", 1)
        return Markup(html)

    def reader(self, request: Request) -> Any:
        """The signed-in reader for the page's header (None for everyone else, whose pages may be cached)."""
        return reader_of(self.store, self.clock(), request)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        shared = {
            "site_name": self.settings.site_name,
            "site_language": self.settings.site_language,
            "csrf": csrf_token(self.secret, request_identity(request)),
            "base_url": base_url(request),
            "reader": self.reader(request),
        }
        response = self.templates.TemplateResponse(request, name, {**shared, **context}, status_code=status)
        if shared["reader"] is not None or context.get("reader") is not None:
            # A page with a reader's name and forms on it is theirs: never kept by any cache, whatever let the
            # request past the page cache's own check.
            response.headers["Cache-Control"] = "no-store"
        return response


def letter_badge(name: str | None) -> Markup:
    """An outlet's letter badge (decorative: the name is written beside it)."""
    return Markup(f'<span class="badge" aria-hidden="true">{escape(shown(name or "?")[:1].upper())}</span>')


def base_url(request: Request) -> str:
    """The site's address for absolute links (feeds, canonical, Open Graph): `base_url` when the operator set
    it, never then the Host a client sent; else scheme://host[:port] this request reached us at."""
    configured: str = request.app.state.context.settings.base_url
    return configured or str(request.base_url).rstrip("/")


async def get_context(request: Request) -> WebContext:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop every request would pay.
    context: WebContext = request.app.state.context
    return context


Ctx = Annotated[WebContext, Depends(get_context)]

MAX_ID = 2**63 - 1  # the largest id the database can hold
#: An id in a route's path ("/stories/{story_id}"): anything else is a 404 on pages, a 422 in the API, never
#: a number too large for the database to look up.
PathId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="A whole number from 1.")]


def shown(value: Any) -> Any:
    """What a template prints for `{{ value }}`: text, which comes from publishers, without control characters
    or bidirectional overrides (strip_controls); markup our own filters built, and numbers, as they are."""
    return strip_controls(value) if type(value) is str else value
