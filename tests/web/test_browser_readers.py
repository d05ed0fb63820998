"""Readers and comments in a real headless Chromium (Debian's, driven by Playwright), on SQLite: signing up from
an article, commenting with the keyboard, hostile text that must never run, a report by another reader, and a
moderator hiding the comment. A screenshot of the thread lands in test-artifacts/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from chromium import ARTIFACTS
from readersite import PASSWORD, Forum, forum_site
from website import ADMIN_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

pytestmark = pytest.mark.browser

# A display name and a comment that would run script if either were ever put on the page as HTML.
DISPLAY_NAME = "Ada <img src=x onerror=alert(1)>"
COMMENT = "Watch out: <script>alert(2)</script>\nand [x](javascript:alert(3)) but **bold** is fine."
REASON = "Suspicious markup"


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forum]:
    """One back end is enough here: the HTTP tests run the same flow on both."""
    with forum_site(tmp_path_factory.mktemp("browser-readers"), "", stories=True) as site:
        # "Now" is the day after the newest invented article, so its stories are among the recent ones.
        site.app.state.context.clock = lambda: NOW  # type: ignore[attr-defined]
        yield site


NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)


class Watch:
    """Every page's dialogs (an alert() that ran), console errors and uncaught script errors."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def page(self, context: BrowserContext) -> Page:
        page = context.new_page()
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        # The site has no icon: Chromium's own request for one is not the page's doing.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"{message.text} ({message.location.get('url')})")


def _submit(page: Page, action: Callable[[], None]) -> None:
    """Do what sends a form (a click, a key), and check the server took it: every form here answers 303."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        action()
    response = answer.value
    page.wait_for_load_state()
    assert response.status == 303, (
        f"POST {response.url} answered {response.status}: {page.inner_text('main')}"
    )


def _sign_up(page: Page, name: str, display_name: str = "") -> None:
    """Fill the sign-up form the page shows, by its labels, and send it."""
    page.locator("#signup-name").fill(name)
    page.get_by_label("Name shown beside your comments").fill(display_name)
    page.get_by_label("Password").fill(PASSWORD)
    _submit(page, page.get_by_role("button", name="Create account").click)


def test_a_reader_signs_up_comments_safely_a_moderator_hides_it_and_for_you_follows_the_reader(
    forum: Forum, browser: Browser
) -> None:
    watch = Watch()
    article_url = f"{forum.url}/articles/{forum.article_ids[0]}"
    contexts = [browser.new_context(viewport={"width": 1366, "height": 900}) for _ in range(4)]
    passer_by, reader, reporter, admin = (watch.page(c) for c in contexts)

    passer_by.goto(article_url)
    assert passer_by.inner_text("#comments .empty") == "No comments yet."

    # Sign up from the article, and come back to its comments.
    reader.goto(article_url)
    assert reader.inner_text("#comments .empty") == "No comments yet."
    reader.get_by_role("link", name="create an account").click()
    reader.wait_for_url(re.compile(r".*/signup\?next=.*"))
    _sign_up(reader, "ada_reader", DISPLAY_NAME)
    reader.wait_for_url(f"{article_url}#comments")
    assert reader.inner_text("nav.you a[href='/account']") == DISPLAY_NAME  # shown as text, not run

    # The comment form by keyboard: its label names the field; Tab reaches the button and Enter posts.
    field = reader.get_by_label("Comment as")
    assert field.get_attribute("id") == "comment-body"
    assert DISPLAY_NAME in reader.inner_text("label[for='comment-body']")
    field.focus()
    reader.keyboard.type(COMMENT)
    reader.keyboard.press("Tab")
    assert reader.evaluate("document.activeElement.textContent") == "Post comment"
    _submit(reader, lambda: reader.keyboard.press("Enter"))
    reader.wait_for_url(re.compile(rf"{re.escape(article_url)}#comment-\d+$"))
    comment_id = int(reader.url.rsplit("-", 1)[1])
    comment = reader.locator(f"#comment-{comment_id}")
    assert comment.locator(".comment-body strong").inner_text() == "bold"
    body = comment.locator(".comment-body").inner_text()
    assert "<script>alert(2)</script>" in body and "[x](javascript:alert(3))" in body  # as typed, inert
    assert comment.locator(".comment-author").inner_text() == DISPLAY_NAME
    assert reader.locator("#comments script, #comments img").count() == 0
    assert reader.locator("a[href^='javascript:' i]").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    reader.screenshot(path=str(ARTIFACTS / "article-comments-desktop.png"), full_page=True)

    # The passer-by's page came from the cache before the comment; a reload shows it.
    passer_by.reload()
    assert passer_by.locator(f"#comment-{comment_id} .comment-body strong").inner_text() == "bold"
    assert passer_by.locator("#comments .empty").count() == 0

    # Another reader reports it through the comment's "Report" details.
    reporter.goto(f"{forum.url}/signup?next=/articles/{forum.article_ids[0]}")
    _sign_up(reporter, "reporting_reader")
    reporter.wait_for_url(article_url)
    reported = reporter.locator(f"#comment-{comment_id}")
    reported.locator("details.report summary").click()
    reported.get_by_label("Why?").fill(REASON)
    _submit(reporter, reported.get_by_role("button", name="Report to the moderators").click)
    reporter.wait_for_url(re.compile(rf".*#comment-{comment_id}$"))

    # The first admin signs in, sees the report and hides the comment.
    admin.goto(f"{forum.url}/moderation")
    admin.wait_for_url(re.compile(r".*/signin\?next=/moderation$"))
    admin.get_by_label("Name").fill("admin")
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    _submit(admin, admin.get_by_role("button", name="Sign in").click)
    admin.wait_for_url(f"{forum.url}/moderation")
    report = admin.locator("ol.reports li").filter(has_text=REASON)
    assert "Reported by reporting_reader" in report.inner_text()
    assert report.locator("blockquote strong").inner_text() == "bold"
    _submit(admin, report.get_by_role("button", name="Hide").click)
    admin.wait_for_url(re.compile(rf".*#comment-{comment_id}$"))
    assert "hidden by a moderator" in admin.inner_text(f"#comment-{comment_id}")
    admin.goto(f"{forum.url}/moderation")
    assert admin.inner_text(".moderation .empty") == "No open reports."

    passer_by.reload()
    assert passer_by.locator(f"#comment-{comment_id}").count() == 0
    assert "alert(2)" not in passer_by.inner_text("#comments")
    assert passer_by.inner_text("#comments .empty") == "No comments yet."

    # The reader follows the outlet from its page, and For You says why its stories come first.
    reader.goto(f"{forum.url}/outlets/the-alder-gazette")
    _submit(reader, reader.get_by_role("button", name="Follow", exact=True).click)
    assert reader.get_by_role("button", name="Following ✓").get_attribute("aria-pressed") == "true"
    reader.get_by_role("link", name="For you").click()
    reader.wait_for_url(f"{forum.url}/foryou")
    first = reader.locator(".foryou .pick").first
    assert "From The Alder Gazette, which you follow." in first.locator(".why").inner_text()
    assert first.locator("h3 a").get_attribute("href", timeout=1000).startswith("/stories/")  # type: ignore[union-attr]
    reader.screenshot(path=str(ARTIFACTS / "foryou-desktop.png"), full_page=True)

    assert watch.dialogs == []
    assert watch.errors == []
    for context in contexts:
        context.close()
