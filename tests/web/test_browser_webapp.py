"""The installable web app and the keyboard, in a real headless Chromium (Debian's, driven by Playwright), on
SQLite: Chromium finds the manifest valid and the site installable, the service worker registers, an article
opened once reloads with the network cut, a page never opened gives the offline page, a new build's worker
replaces the old one's files; and j/k/o/m/s/? on the front page, signed in and not, with no script error and
nothing the content policy refuses."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from readersite import Forum, forum_site

from broadsheet.clock import utcnow
from broadsheet.readers.tokens import new_token, token_hash
from broadsheet.store import EntryQuery, Stream
from broadsheet.web.pages import webapp
from broadsheet.web.security import SESSION_COOKIE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forum]:
    """One back end is enough: the service worker and the keys are the browser's side."""
    with forum_site(tmp_path_factory.mktemp("browser-webapp"), "") as site:
        yield site


class Errors:
    """Console errors (a content-policy refusal is one) and uncaught script errors, of every page watched."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def page(self, context: BrowserContext) -> Page:
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.seen.append(str(e)))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # Offline, Chromium logs each failed load itself: the network being cut is the test, not an error.
        if (
            message.type == "error"
            and not url.endswith("/favicon.ico")
            and "ERR_INTERNET_DISCONNECTED" not in message.text
        ):
            self.seen.append(f"{message.text} ({url})")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_and_icons_are_what_installing_needs(forum: Forum) -> None:
    with httpx.Client(base_url=forum.url, timeout=10) as web:
        answer = web.get("/manifest.webmanifest")
        assert answer.headers["content-type"].startswith("application/manifest+json")
        manifest = json.loads(answer.text)
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["name"]
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes and any(i["purpose"] == "maskable" for i in manifest["icons"])
        for icon in manifest["icons"]:
            width, height = (int(n) for n in icon["sizes"].split("x"))
            assert _png_size(web.get(icon["src"]).content) == (width, height)
        worker = web.get("/sw.js")
        assert worker.headers["content-type"].startswith("text/javascript")
        assert worker.headers["cache-control"] == "no-cache" and webapp.worker_version() in worker.text
        home = web.get("/").text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in home
        assert '<script src="/static/app.js" defer></script>' in home and "<script>" not in home


def test_installable_and_readable_offline_and_a_new_build_replaces_the_old_files(
    forum: Forum, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = Errors()
    context = browser.new_context(base_url=forum.url)
    page = errors.page(context)
    page.goto("/")
    script = page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)")
    assert script == f"{forum.url}/sw.js"
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    blocking = [e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]]
    assert set(blocking) <= {"in-incognito"}, blocking  # a Playwright context is incognito-like; nothing else
    page.reload()  # now under the worker's care (it claims open pages as it starts, too)
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    opened, never = forum.article_ids[0], forum.article_ids[1]
    page.goto(f"/articles/{opened}")
    title = page.inner_text("h1")
    context.set_offline(True)
    page.reload()
    assert page.inner_text("h1") == title  # from the worker's copy
    page.goto("/")
    assert page.locator("article.card").count() >= 2  # the front page too
    page.goto(f"/articles/{never}")
    assert page.inner_text("h1") == "You are offline"
    context.set_offline(False)

    # A new build: the worker's script changes, the browser installs it, and it deletes the old files.
    shells = "caches.keys().then(names => names.filter(n => n.startsWith('broadsheet-shell-')))"
    assert page.evaluate(shells) == [f"broadsheet-shell-{webapp.worker_version()}"]
    monkeypatch.setattr(webapp, "worker_version", lambda: "next-build")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.wait_for_function(f"{shells}.then(n => n.length === 1 && n[0] === 'broadsheet-shell-next-build')")
    assert page.evaluate("caches.keys()").count("broadsheet-pages") == 1  # opened pages stay across builds
    assert errors.seen == []
    context.close()


def _signed_in(forum: Forum, context: BrowserContext, name: str) -> int:
    """A session for a new reader, its cookie in the browser (the sign-in form has tests of its own)."""
    from broadsheet.readers.passwords import hash_password

    user = forum.store.accounts.add_user(name, hash_password("a long enough secret"), "reader", utcnow())
    token = new_token("bs_s_")
    forum.store.accounts.open_session(user.id, token_hash(token), utcnow(), timedelta(hours=1))
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": forum.url}])
    return user.id


def test_keyboard_shortcuts_on_the_front_page(forum: Forum, browser: Browser) -> None:
    errors = Errors()
    # Not signed in: moving works, marking asks to sign in.
    anonymous = browser.new_context(base_url=forum.url)
    page = errors.page(anonymous)
    page.goto("/")
    page.keyboard.press("j")
    assert page.locator("article.card.is-selected").count() == 1
    page.keyboard.press("s")
    assert page.inner_text(".key-status") == "Sign in to keep read marks and bookmarks."
    anonymous.close()

    context = browser.new_context(base_url=forum.url)
    reader = _signed_in(forum, context, "keyboard_reader")
    page = errors.page(context)
    page.goto("/")
    cards = page.locator("article.card[data-article]")
    first, second = (int(cards.nth(i).get_attribute("data-article") or 0) for i in (0, 1))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert cards.nth(0).get_attribute("class") == "card is-selected"
    page.keyboard.press("s")
    page.wait_for_selector("article.card.is-bookmarked")
    assert page.inner_text(".key-status") == "Bookmarked."
    assert [c.id for c in forum.store.follows.bookmarks(reader)] == [first]
    page.keyboard.press("j")
    page.keyboard.press("m")
    page.wait_for_selector(f"article.card.is-read[data-article='{second}']")
    read = forum.store.library.entries_by_id(reader, [first, second])
    assert [(e.id, e.read) for e in read] == [(first, False), (second, True)]  # the same state apps see
    page.keyboard.press("?")
    assert page.locator("dialog.key-help").is_visible()
    assert "Keyboard shortcuts" in page.inner_text("dialog.key-help")
    page.keyboard.press("Escape")
    assert not page.locator("dialog.key-help").is_visible()

    # A reload shows what was read and kept; o opens the selected article.
    page.reload()
    page.wait_for_selector(f"article.card.is-read[data-article='{second}']")
    assert page.locator(f"article.card.is-bookmarked[data-article='{first}']").count() == 1
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"{forum.url}/articles/{first}")
    # Opening it on the site marked it read for the reader's apps too.
    assert forum.store.library.entries_by_id(reader, [first])[0].read
    assert not forum.store.library.entry_ids(reader, EntryQuery(Stream("starred"), read=False))
    assert errors.seen == []
    context.close()
