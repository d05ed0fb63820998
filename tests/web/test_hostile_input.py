"""What a hostile link or publisher puts in front of readers: ids past 64 bits, a made-up `?outlet=` echoed as
the site's own words, bidirectional overrides and control characters in titles, names and authors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from website import ADMIN_PASSWORD, Site, running

from broadsheet.config import Settings
from broadsheet.models import Article
from broadsheet.pipeline.ingest import Ingester
from broadsheet.store import Store
from broadsheet.web import create_app

AUTH = {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()}
HUGE = str(2**64)
MAX_ID = 2**63 - 1
# What a page must never carry: C0 controls but tab and line breaks, DEL, C1, bidi embeddings, overrides, isolates.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    "path",
    [f"/stories/{HUGE}", f"/stories/{HUGE}.atom", f"/stories/{HUGE}.rss", f"/articles/{HUGE}", "/stories/0",
     "/stories/-3", "/stories/abc", f"/stories/{MAX_ID}", f"/stories/{MAX_ID + 1}"],
)  # fmt: skip
def test_an_id_no_story_or_article_could_have_is_a_page_not_found(site: Site, path: str) -> None:
    response = site.client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text and response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/articles/{HUGE}", f"/api/v1/stories/{HUGE}", f"/api/v1/stories/{HUGE}/articles",
     f"/api/v1/stories/{HUGE}/related", f"/api/v1/articles/{MAX_ID + 1}", "/api/v1/stories/0"],
)  # fmt: skip
def test_an_id_past_what_the_database_holds_is_invalid_input_in_the_api(site: Site, path: str) -> None:
    response = site.client.get(path)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_the_largest_id_the_database_holds_is_looked_up_and_simply_missing(site: Site) -> None:
    assert site.client.get(f"/api/v1/articles/{MAX_ID}").status_code == 404
    assert site.client.get(f"/api/v1/stories/{MAX_ID}").status_code == 404


@pytest.mark.parametrize("action", ["refresh", "remove"])
def test_admin_actions_on_an_id_past_64_bits_are_not_found(site: Site, action: str) -> None:
    response = site.client.post(f"/admin/sources/{HUGE}/{action}", data={"csrf": "x"}, headers=AUTH)
    assert response.status_code == 404


def test_an_unknown_outlet_in_the_query_is_not_echoed_as_the_sites_words(site: Site) -> None:
    claim = "Your account is locked, call 0800 555 0100"
    for name in ("outlet", "tag"):
        response = site.client.get(f"/?{name}={quote(claim)}")
        assert response.status_code == 404
        assert "locked" not in response.text and "0800" not in response.text
    assert "no such outlet" in site.client.get(f"/?outlet={quote(claim)}").text
    # A real one is named as the site knows it, not as the link spelled it.
    outlet = site.client.get("/api/v1/outlets").json()[0]
    page = site.client.get(f"/?outlet={outlet['slug']}")
    assert page.status_code == 200 and f"Latest from {outlet['name']}</h" in page.text


def _hostile(n: int) -> Article:
    return Article(
        url=f"https://mirror.example/{n}",
        canonical_url=f"https://mirror.example/{n}",
        title=f"Harbour \u202eemag{n}\u202c reopens\x07 after \u2066storm\u2069\x85",
        text="The harbour reopened on Monday after the storm.\n\nBoats are back." * 5,
        outlet="Mirror \u202eTimes\x1b",
        author="Ann \u2067Other\u2069\x00",
        description="Boats\u202d are back\x9b",
        image_alt="A quay\x0c at dawn",
        tags=("Harbour\u202e", "\x01"),
        published=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
    )


def test_control_and_bidi_characters_are_stripped_when_articles_are_stored(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, crawl_in_server=False)
    store = Store.open(settings.database)
    Ingester(store, settings).ingest(_hostile(1))
    app = create_app(settings, store=store)
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
        article = web.get("/api/v1/articles/1").json()
    assert article["title"] == "Harbour emag1 reopens after storm"
    assert article["outlet"] == "Mirror Times"
    assert article["author"] == "Ann Other"
    assert article["tags"] == ["Harbour"]
    assert not any(INVISIBLE.search(str(value)) for value in article.values())


def test_pages_show_no_control_or_bidi_characters_even_from_articles_stored_with_them(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, crawl_in_server=False)
    store = Store.open(settings.database)
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for n in (1, 2):  # stored as they came, as by a version of broadsheet that kept them
        store.articles.insert(_hostile(n), None, {f"https://mirror.example/{n}"}, now)
    app = create_app(settings, store=store)
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
        slug = web.get("/api/v1/articles/1").json()["outlet_slug"]
        assert INVISIBLE.search(web.get("/api/v1/articles/1").json()["title"])  # the data is hostile
        for path in [
            "/articles/1",
            "/",
            "/outlets",
            f"/outlets/{slug}",
            "/search?q=harbour",
            "/tags/harbour",
        ]:
            page = web.get(path)
            assert page.status_code == 200, path
            assert not INVISIBLE.search(page.text), (path, INVISIBLE.findall(page.text))
        article = web.get("/articles/1").text
        assert "<h1>Harbour emag1 reopens after storm</h1>" in article
        assert "<title>Harbour emag1 reopens after storm · Mirror Times · broadsheet</title>" in article
        assert "By Ann Other" in article
