"""Main text and HTML of invented pages: paragraphs kept, bylines and page furniture removed, HTML sanitised."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable

from broadsheet.extract import extract_article

URL = "https://ledger.example/local/2026/03/tram-depot-market"


def test_paragraphs_are_separated_by_blank_lines(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    result = extract_article(make_page(), URL)
    assert result.text.split("\n\n") == list(paragraphs)


def test_headline_and_site_chrome_are_not_in_the_text(make_page: Callable[..., str]) -> None:
    text = extract_article(make_page(), URL).text
    assert "tram depot into covered market" not in text
    assert "Harbour Row" not in text
    assert "Privacy" not in text


def test_byline_prefix_is_removed(make_page: Callable[..., str]) -> None:
    head = '<meta name="author" content="By Imelda Varga (@ivarga), Senior Reporter and Tobias Lund">'
    before = '<p class="story-meta">By Imelda Varga and Tobias Lund</p>'
    result = extract_article(make_page(head=head, before=before), URL)
    assert result.authors == ("Imelda Varga", "Tobias Lund")
    assert "By Imelda" not in result.text


def test_share_and_related_blocks_are_removed(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    before = '<div class="share-tools"><a href="#">Share on Facebook</a> <a href="#">Share by email</a></div>'
    after = """
<h3>Related stories</h3>
<ul><li><a href="/a">Harbour wall repairs finish early</a></li><li><a href="/b">Ferry timetable changes</a></li></ul>
<p>Read more: <a href="/c">Valley growers plan a cooperative</a></p>
"""
    text = extract_article(make_page(before=before, after=after), URL).text
    assert "Share on Facebook" not in text
    assert "Related stories" not in text
    assert "Harbour wall repairs" not in text
    assert "Valley growers" not in text
    assert paragraphs[-1] in text


def test_newsletter_prompt_and_image_credit_are_removed(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    middle = (*paragraphs[:2], "Photo: Wendell Okafor / Larkspur Ledger", *paragraphs[2:])
    after = "<p>Sign up for our morning newsletter and never miss a story from the bay.</p>"
    text = extract_article(make_page(paragraphs=middle, after=after), URL).text
    assert "newsletter" not in text
    assert "Wendell Okafor" not in text
    assert text.split("\n\n") == list(paragraphs)


def test_sanitised_html_keeps_structure_and_absolute_links(make_page: Callable[..., str]) -> None:
    after = '<h2>What happens next</h2><p>The full plan is on the <a href="/docs/plan">council site</a> for all.</p>'
    html = extract_article(make_page(after=after), URL).html
    assert html.startswith("<p>")
    assert "<h2>What happens next</h2>" in html
    assert 'href="https://ledger.example/docs/plan"' in html


def test_sanitised_html_has_no_script_handlers_or_javascript_urls(make_page: Callable[..., str]) -> None:
    after = (
        "<p>Questions can go to the clerk by post or by telephone during office hours, said the council "
        '<a href="javascript:alert(1)" onclick="steal()">office</a>.</p>'
        '<script>document.write("injected")</script><img src="x.png" onerror="alert(2)">'
        '<p style="color:red" onmouseover="alert(3)">A final line about the opening day and its brass band.</p>'
    )
    html = extract_article(make_page(after=after), URL).html
    lowered = html.lower()
    for banned in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "style=", "injected"):
        assert banned not in lowered


def test_result_survives_pickling_for_process_pools(make_page: Callable[..., str]) -> None:
    result = extract_article(make_page(), URL)
    assert pickle.loads(pickle.dumps(result)) == result


def test_visible_lead_matching_the_description_is_recovered(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    lead = "After four budget rounds, the harbour town has found a use for its empty depot: a market hall."
    head = f'<meta name="description" content="{lead}">'
    page = make_page(head=head).replace(
        "<article>", f'<header class="top"><div class="dek">{lead}</div></header><article>'
    )
    text = extract_article(page, URL).text
    assert text.split("\n\n")[0] == lead
    assert text.count(lead) == 1


def test_lead_with_a_lead_class_next_to_the_headline_is_recovered(make_page: Callable[..., str]) -> None:
    lead = "The glazed lantern roof will be restored first, and the stalls will follow in the spring."
    page = make_page().replace(
        "<article>",
        f'<div class="story-head"><h1>Depot</h1><p class="article__intro">{lead}</p></div><article>',
    )
    assert extract_article(page, URL).text.startswith(lead)


def test_json_ld_article_body_replaces_a_page_that_shows_only_a_teaser(paragraphs: tuple[str, ...]) -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Depot", "articleBody": "\n".join(paragraphs)})
    page = (
        f'<html><head><script type="application/ld+json">{ld}</script></head><body><article>'
        f"<p>{paragraphs[0][:80]}</p><div id='app'></div></article></body></html>"
    )
    assert extract_article(page, URL).text.split("\n\n") == list(paragraphs)
