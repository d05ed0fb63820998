"""The reader in a real headless Chromium (Debian's, driven by Playwright): what renders, what must not run,
and the layout on a phone and a desktop. Screenshots land in test-artifacts/ for people to look at."""

from __future__ import annotations

import pytest
from chromium import ARTIFACTS
from website import Site

pytestmark = pytest.mark.browser


def article_id(site: Site, title_part: str) -> int:
    items = site.client.get("/api/v1/articles", params={"limit": 200}).json()["items"]
    return next(a["id"] for a in items if title_part in a["title"])


def biggest_story(site: Site) -> int:
    """The story with the most articles (the data set's copy makes one of at least two)."""
    items = site.client.get("/api/v1/articles", params={"limit": 200, "include_duplicates": True}).json()[
        "items"
    ]
    stories = [site.client.get(f"/api/v1/articles/{a['id']}").json()["story_id"] for a in items]
    return max(set(stories), key=lambda s: (stories.count(s), -s))


def test_article_page_renders_headline_outlet_time_image_text_and_related(
    site: Site, browser: object
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # Publishers' image hosts are invented and unreachable here; the page itself must load cleanly.
    page.route("https://img.example/**", lambda route: route.abort())
    page.goto(f"{site.url}/articles/{article_id(site, '(1)')}")
    assert "(1)" in page.inner_text("h1")
    assert page.inner_text(".outlet a") == "Quillon Daily"
    assert page.inner_text(".byline time").endswith("ago") or page.inner_text(".byline time")[0].isdigit()
    assert page.get_attribute("figure.lead img", "alt") == ""
    assert page.locator(".body p").count() == 4
    assert page.locator(".related .related-item").count() >= 1
    assert not [e for e in errors if "img.example" not in e and "ERR_FAILED" not in e]


XSS_PAGES = ["/articles/{hostile}", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/search?q=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
             "/", "/outlets", "/outlets/evil-img-src-x-onerror-alert-1", "/?tag=%3Csvg%2Fonload%3Dalert(1)%3E",
             "/stories/{hostile_story}"]  # fmt: skip


def test_xss_payloads_in_articles_titles_authors_tags_and_queries_never_run(
    site: Site, browser: object
) -> None:
    hostile = article_id(site, "Hostile")
    hostile_story = site.client.get(f"/api/v1/articles/{hostile}").json()["story_id"]
    page = browser.new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route("https://img.example/**", lambda route: route.abort())
    page.route("**/x", lambda route: route.abort())
    for path in XSS_PAGES:
        response = page.goto(site.url + path.format(hostile=hostile, hostile_story=hostile_story))
        assert response is not None and response.status in (200, 400, 404), path
        page.wait_for_load_state("load")
        assert page.locator("header.site .brand").count() == 1, path  # the page is intact
    assert dialogs == []
    page.goto(f"{site.url}/articles/{hostile}")
    assert "<script>" in page.inner_text("h1")  # shown, not run


@pytest.mark.parametrize(("name", "width", "height"), [("phone", 390, 844), ("desktop", 1366, 900)])
def test_layout_fits_phone_and_desktop(
    site: Site, browser: object, name: str, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    page.route("https://img.example/**", lambda route: route.abort())
    ARTIFACTS.mkdir(exist_ok=True)
    for label, path in (
        ("home", "/"),
        ("article", f"/articles/{article_id(site, '(2)')}"),
        ("search", "/search?q=harbour"),
        ("story", f"/stories/{biggest_story(site)}"),
    ):
        page.goto(site.url + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{label} scrolls sideways on a {name}: {scroll_width}px > {width}px"
        page.screenshot(path=str(ARTIFACTS / f"{label}-{name}.png"), full_page=True)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # keyboard users can skip the header
    context.close()


def test_a_key_point_marker_jumps_to_its_sentence_and_highlights_it_without_javascript(
    site: Site, browser: object
) -> None:
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.route("https://img.example/**", lambda route: route.abort())
    page.goto(f"{site.url}/articles/{article_id(site, '(1)')}")
    marker = page.locator(".ai-panel .key-points a.cite-link").first
    target = (marker.get_attribute("href") or "").lstrip("#")
    assert target.startswith("s-")
    sentence = page.locator(f"#{target}")
    plain = sentence.evaluate("e => getComputedStyle(e).backgroundColor")
    marker.click()
    assert page.url.endswith(f"#{target}")
    lit = sentence.evaluate("e => getComputedStyle(e).backgroundColor")
    assert lit != plain  # :target highlights the cited sentence
    point = marker.evaluate("a => a.parentElement.textContent")
    assert sentence.inner_text().strip() in point
    context.close()
