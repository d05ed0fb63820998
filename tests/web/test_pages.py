"""The reader's pages over real HTTP: content, metadata, safety headers, errors."""

from __future__ import annotations

import json

import httpx
from lxml import html as lxml_html
from website import Site


def doc(response: httpx.Response) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(response.text)


def first_article_id(site: Site, title_part: str) -> int:
    page = site.client.get("/api/v1/articles", params={"limit": 200}).json()
    return next(a["id"] for a in page["items"] if title_part in a["title"])


def test_home_lists_newest_first_with_outlet_time_and_excerpt(site: Site) -> None:
    response = site.client.get("/")
    assert response.status_code == 200
    page = doc(response)
    cards = page.cssselect("article.card")
    assert len(cards) == 10  # page_size
    times = [c.cssselect("time")[0].get("datetime") for c in cards]
    assert times == sorted(times, reverse=True)
    assert cards[0].cssselect(".meta a")[0].get("href").startswith("/outlets/")
    assert cards[0].cssselect(".excerpt")


def test_home_pages_with_a_cursor_without_repeats(site: Site) -> None:
    seen: list[str] = []
    url = "/"
    for _ in range(10):
        page = doc(site.client.get(url))
        seen += [a.get("href") for a in page.cssselect("article.card h3 a")]
        nxt = page.cssselect("a[rel=next]")
        if not nxt:
            break
        url = nxt[0].get("href")
    assert len(seen) == len(set(seen)) == 25  # 24 stories + the hostile one; the copy is folded


def test_home_filters_by_outlet_tag_and_language(site: Site) -> None:
    by_outlet = doc(site.client.get("/", params={"outlet": "quillon-daily"}))
    assert {a.text for a in by_outlet.cssselect("article.card .meta a")} == {"Quillon Daily"}
    # A fifth of the articles declare German, but their text is English: enrichment's detected language wins.
    assert doc(site.client.get("/", params={"lang": "de"})).cssselect("article.card") == []
    english = doc(site.client.get("/", params={"lang": "en"}))
    assert len(english.cssselect("article.card")) == 10  # a full page


def test_article_page_shows_what_a_reader_expects(site: Site) -> None:
    article_id = first_article_id(site, "(0)")
    response = site.client.get(f"/articles/{article_id}")
    assert response.status_code == 200
    page = doc(response)
    assert "(0)" in page.cssselect("h1")[0].text_content()
    assert page.cssselect(".outlet a")[0].get("href") == "/outlets/the-alder-gazette"
    assert "By " in page.cssselect(".byline")[0].text_content()
    assert page.cssselect(".byline time")[0].get("datetime").endswith("Z")
    assert "min read" in page.cssselect(".byline")[0].text_content()
    lead = page.cssselect("figure.lead img")[0]
    assert lead.get("src") == "https://img.example/0.jpg" and lead.get("alt") == ""  # unknown alt is empty
    assert len(page.cssselect(".body p")) == 4
    read_at = page.cssselect(".read-at a")[0]
    assert read_at.get("href") == "https://gazette.example/news/" + read_at.get("href").rsplit("/", 1)[1]
    assert "nofollow" in read_at.get("rel")
    assert page.cssselect(".tags a")[0].get("href").startswith("/tags/")
    assert "Wire Service" in page.cssselect(".also")[0].text_content()  # the syndicated copy is folded here
    assert page.cssselect(".related .related-item")
    assert page.cssselect("nav.prevnext a")


def test_article_page_has_title_description_open_graph_canonical_and_json_ld(site: Site) -> None:
    article_id = first_article_id(site, "(3)")
    page = doc(site.client.get(f"/articles/{article_id}"))
    assert "(3)" in page.findtext(".//title")
    assert page.cssselect('meta[name="description"]')[0].get("content")
    assert page.cssselect('link[rel="canonical"]')[0].get("href") == f"{site.url}/articles/{article_id}"
    assert page.cssselect('meta[property="og:title"]') and page.cssselect('meta[property="og:image"]')
    data = json.loads(page.cssselect('script[type="application/ld+json"]')[0].text)
    assert data["@type"] == "NewsArticle" and data["datePublished"].endswith("Z")


def test_hostile_article_renders_inert(site: Site) -> None:
    article_id = first_article_id(site, "Hostile")
    response = site.client.get(f"/articles/{article_id}")
    assert response.status_code == 200
    text = response.text
    page = doc(response)
    # No script but the data block and the site's one file (no inline code: the policy forbids it anyway).
    assert [(s.get("type"), s.get("src")) for s in page.iter("script")] == [
        ("application/ld+json", None),
        (None, "/static/app.js"),
    ]
    handlers = [
        (el.tag, a) for el in page.iter() if isinstance(el.tag, str) for a in el.attrib if a.startswith("on")
    ]
    assert handlers == []
    assert not page.cssselect("iframe, svg, object, embed")
    # Only our own forms (the search box, the bookmark button): the publisher's form was dropped when stored.
    assert [f.get("action") for f in page.iter("form")] == ["/search", f"{response.url.path}/bookmark"]
    assert not [a for a in page.iter("a") if (a.get("href") or "").lower().startswith("javascript:")]
    assert (
        "Hostile <script>alert('title')</script>" in page.cssselect("h1")[0].text_content()
    )  # shown as text
    json_ld = text.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert "<" not in json_ld


def test_every_page_sends_security_headers(site: Site) -> None:
    for path in ("/", "/search?q=harbour", "/api/v1/articles", "/nope"):
        headers = site.client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_missing_pages_get_a_styled_404_and_the_api_json(site: Site) -> None:
    page = site.client.get("/articles/999999")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Page not found" in page.text and 'href="/static/style.css"' in page.text
    # Ids that are not whole numbers, or too long for any database (5 000 digits), are pages not found too.
    for bad in ("abc", "1e3", "-4", "٣", "9" * 20, "9" * 5000):
        response = site.client.get(f"/articles/{bad}")
        assert response.status_code == 404 and "whole numbers" in response.text, bad
    api = site.client.get("/api/v1/articles/999999")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert site.client.get("/outlets/no-such-outlet").status_code == 404


def test_outlet_and_tag_pages_list_their_articles_and_link_feeds(site: Site) -> None:
    page = doc(site.client.get("/outlets/marrowby-herald"))
    assert page.cssselect("h1")[0].text == "Marrowby Herald"
    assert page.cssselect('link[type="application/atom+xml"]')
    tag_href = doc(site.client.get("/")).cssselect("article.card h3 a")[0].get("href")
    article = doc(site.client.get(tag_href))
    tag = article.cssselect(".tags a")[0].get("href")
    assert site.client.get(tag).status_code == 200


def test_search_highlights_matches_and_explains_bad_queries(site: Site) -> None:
    found = site.client.get("/search", params={"q": "ferry"})
    assert found.status_code == 200 and "<mark>" in found.text
    for bad in ('"unbalanced', "OR", "-"):
        response = site.client.get("/search", params={"q": bad})
        assert response.status_code == 400, bad
        assert doc(response).cssselect(".problem")[0].text_content().strip()
    hostile = site.client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert hostile.status_code in (200, 400) and "<script>alert(1)" not in hostile.text


def test_the_search_form_offers_every_outlet_and_keeps_the_one_chosen(site: Site) -> None:
    outlets = site.client.get("/api/v1/outlets").json()
    chosen = outlets[-1]["slug"]
    options = doc(site.client.get("/search", params={"q": "ferry", "outlet": chosen})).cssselect(
        "#outlet option"
    )
    assert [o.get("value") for o in options] == ["", *(o["slug"] for o in outlets)]
    assert [o.get("value") for o in options if o.get("selected") is not None] == [chosen]
    unfiltered = doc(site.client.get("/search", params={"q": "ferry"})).cssselect("#outlet option[selected]")
    assert unfiltered == []


def test_unknown_query_parameters_of_the_wrong_type_are_a_400_page(site: Site) -> None:
    response = site.client.get("/search", params={"q": "ferry", "page": "many"})
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
