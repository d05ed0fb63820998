"""The JSON API, the feeds out, and the admin pages (password, CSRF) over real HTTP."""

from __future__ import annotations

import base64

import feedparser
from lxml import html as lxml_html
from website import ADMIN_PASSWORD, Site

AUTH = {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()}


def test_api_lists_articles_with_cursor_pagination(site: Site) -> None:
    first = site.client.get("/api/v1/articles", params={"limit": 7}).json()
    second = site.client.get("/api/v1/articles", params={"limit": 7, "cursor": first["next_cursor"]}).json()
    ids = [a["id"] for a in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 14
    assert {"title", "outlet", "outlet_slug", "published", "excerpt", "image"} <= set(first["items"][0])


def test_api_article_detail_has_full_text_and_copies(site: Site) -> None:
    items = site.client.get("/api/v1/articles", params={"limit": 200}).json()["items"]
    original = next(a for a in items if "(0)" in a["title"])
    detail = site.client.get(f"/api/v1/articles/{original['id']}").json()
    assert detail["text"].count("\n\n") == 3 and detail["html"].startswith("<p>")
    assert detail["also_published_at"] == ["https://wire.example/copied-story"]


def test_api_errors_are_json_with_code_and_message(site: Site) -> None:
    bad_cursor = site.client.get("/api/v1/articles", params={"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["message"]
    bad_limit = site.client.get("/api/v1/articles", params={"limit": 0})
    assert bad_limit.status_code == 422 and bad_limit.json()["error"]["code"] == "invalid_input"
    bad_query = site.client.get("/api/v1/search", params={"q": '"open'})
    assert bad_query.status_code == 400 and "quote" in bad_query.json()["error"]["message"]


def test_api_search_outlets_and_openapi(site: Site) -> None:
    hits = site.client.get("/api/v1/search", params={"q": "library"}).json()
    assert hits["results"] and "<mark>" in hits["results"][0]["snippet_html"]
    outlets = site.client.get("/api/v1/outlets").json()
    assert {"The Alder Gazette", "Quillon Daily", "Marrowby Herald"} <= {o["name"] for o in outlets}
    schema = site.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/articles" in schema["paths"]
    docs = site.client.get("/docs")
    assert docs.status_code == 200 and "/api/v1/search" in docs.text
    assert docs.text.count("<script") == 1 and '<script src="/static/app.js" defer></script>' in docs.text


def test_feeds_out_parse_for_home_outlet_tag_and_search(site: Site) -> None:
    paths = ["/feed.atom", "/feed.rss", "/outlets/quillon-daily.atom", "/outlets/quillon-daily.rss",
             "/search.atom?q=harbour", "/search.rss?q=harbour"]  # fmt: skip
    for path in paths:
        response = site.client.get(path)
        assert response.status_code == 200, path
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        assert all(e.link.startswith(site.url + "/articles/") for e in parsed.entries)
    assert site.client.get("/outlets/nobody.atom").status_code == 404


def test_admin_needs_the_password(site: Site) -> None:
    assert site.client.get("/admin/sources").status_code == 401
    assert site.client.get("/admin/sources").headers["www-authenticate"].startswith("Basic")
    assert site.client.get("/api/v1/sources").status_code == 401
    assert site.client.get("/admin/sources", headers=AUTH).status_code == 200
    assert site.client.get("/api/v1/sources", headers=AUTH).json() == {"items": [], "next_cursor": None}


def test_admin_forms_refuse_missing_csrf_or_foreign_origin(site: Site) -> None:
    page = lxml_html.fromstring(site.client.get("/admin/sources", headers=AUTH).text)
    token = page.cssselect('input[name="csrf"]')[0].get("value")
    form = {"url": "https://example.invalid/feed", "csrf": "forged"}
    same = {**AUTH, "Origin": site.url}
    assert site.client.post("/admin/sources", data=form, headers=same).status_code == 403
    foreign = {**AUTH, "Origin": "https://evil.example"}
    assert (
        site.client.post("/admin/sources", data={**form, "csrf": token}, headers=foreign).status_code == 403
    )


def test_admin_imports_opml_and_reports_a_bad_source_in_words(site: Site) -> None:
    page = lxml_html.fromstring(site.client.get("/admin/sources", headers=AUTH).text)
    token = page.cssselect('input[name="csrf"]')[0].get("value")
    headers = {**AUTH, "Origin": site.url}
    opml = b'<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Tamsworth" type="rss" xmlUrl="https://tamsworth.example/rss"/></body></opml>'
    done = site.client.post("/admin/sources/import", data={"csrf": token}, files={"opml": ("s.opml", opml)},
                            headers=headers, follow_redirects=True)  # fmt: skip
    assert done.status_code == 200 and "Imported 1 feeds" in done.text and "tamsworth.example" in done.text
    # a private address is refused by the SSRF guard, with the reason on the page
    bad = site.client.post(
        "/admin/sources", data={"csrf": token, "url": f"{site.url}/feed.atom"}, headers=headers
    )
    assert bad.status_code == 400 and "BROADSHEET_ALLOW_PRIVATE_NETWORKS" in bad.text
    exported = site.client.get("/admin/sources.opml", headers=AUTH)
    assert b"tamsworth.example/rss" in exported.content
    source_id = site.client.get("/api/v1/sources", headers=AUTH).json()["items"][0]["id"]
    removed = site.client.post(f"/admin/sources/{source_id}/remove", data={"csrf": token}, headers=headers,
                               follow_redirects=True)  # fmt: skip
    assert "Removed" in removed.text
