"""Metadata of invented pages through `extract_article`: JSON-LD (with @graph), OpenGraph, images, dates, tags."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from broadsheet.extract import extract_article

URL = "https://ledger.example/local/2026/03/tram-depot-market"


def _jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_jsonld_news_article_fields_are_read(make_page: Callable[..., str]) -> None:
    head = _jsonld(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": "Depot becomes a market",
            "author": [
                {"@type": "Person", "name": "Imelda Varga"},
                {"@type": "Person", "name": "Tobias Lund"},
            ],
            "datePublished": "2026-03-03T09:30:00+01:00",
            "dateModified": "2026-03-04T18:00:00Z",
            "publisher": {"@type": "NewsMediaOrganization", "name": "The Larkspur Ledger"},
            "image": {"@type": "ImageObject", "url": "/img/depot.jpg"},
            "keywords": ["Planning", "Markets", "planning "],
            "inLanguage": "en-GB",
        }
    )
    result = extract_article(make_page(head=head, html_attrs=""), URL)
    assert result.title == "Depot becomes a market"
    assert result.authors == ("Imelda Varga", "Tobias Lund")
    assert result.published == datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    assert result.updated == datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    assert result.site_name == "The Larkspur Ledger"
    assert result.image == "https://ledger.example/img/depot.jpg"
    assert result.tags == ("Planning", "Markets")
    assert result.lang == "en"


def test_jsonld_graph_references_are_resolved(make_page: Callable[..., str]) -> None:
    head = _jsonld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Organization", "@id": "https://ledger.example/#org", "name": "Ledger Media"},
                {"@type": "Person", "@id": "https://ledger.example/#/person/1", "name": "Odile Marchetti"},
                {"@type": "WebPage", "@id": URL, "url": URL, "inLanguage": "fr-FR"},
                {
                    "@type": ["Article", "BlogPosting"],
                    "headline": "Le dépôt devient un marché",
                    "author": {"@id": "https://ledger.example/#/person/1"},
                    "publisher": {"@id": "https://ledger.example/#org"},
                    "datePublished": "2026-03-03T10:00:00",
                    "mainEntityOfPage": {"@id": URL},
                },
            ],
        }
    )
    result = extract_article(make_page(head=head, html_attrs=""), URL)
    assert result.title == "Le dépôt devient un marché"
    assert result.authors == ("Odile Marchetti",)
    assert result.site_name == "Ledger Media"
    assert result.published == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # naive: taken as UTC
    assert result.lang == "fr"


def test_opengraph_only_page_gives_metadata(make_page: Callable[..., str]) -> None:
    head = """
<meta property="og:title" content="Tram depot to become a market">
<meta property="og:site_name" content="Larkspur Ledger">
<meta property="og:url" content="/local/tram-depot">
<meta property="og:image" content="https://cdn.ledger.example/depot-wide.jpg">
<meta property="og:image:alt" content="The iron roof of the old tram depot at dusk">
<meta property="og:locale" content="en_US">
<meta property="og:description" content="Council backs a covered market.">
<meta property="article:published_time" content="2026-03-03T07:15:00-05:00">
<meta property="article:tag" content="Council">
<meta property="article:tag" content=" Markets ">
<meta property="article:tag" content="council">
<meta name="author" content="By Imelda Varga and Tobias Lund">
"""
    result = extract_article(make_page(head=head, html_attrs=""), URL)
    assert result.title == "Tram depot to become a market"
    assert result.site_name == "Larkspur Ledger"
    assert result.canonical_url == "https://ledger.example/local/tram-depot"
    assert result.image == "https://cdn.ledger.example/depot-wide.jpg"
    assert result.image_alt == "The iron roof of the old tram depot at dusk"
    assert result.lang == "en"
    assert result.description == "Council backs a covered market."
    assert result.published == datetime(2026, 3, 3, 12, 15, tzinfo=UTC)
    assert result.tags == ("Council", "Markets")
    assert result.authors == ("Imelda Varga", "Tobias Lund")


def test_rel_canonical_wins_and_is_made_absolute(make_page: Callable[..., str]) -> None:
    head = (
        '<link rel="canonical" href="/local/depot"><meta property="og:url" content="https://other.example/x">'
    )
    result = extract_article(make_page(head=head), URL)
    assert result.canonical_url == "https://ledger.example/local/depot"


def test_the_sites_icon_is_found_largest_kind_first_and_made_absolute(make_page: Callable[..., str]) -> None:
    plain = '<link rel="shortcut icon" href="/favicon.ico">'
    assert extract_article(make_page(head=plain), URL).icon == "https://ledger.example/favicon.ico"
    both = plain + '<link rel="apple-touch-icon" sizes="180x180" href="/touch.png">'
    assert extract_article(make_page(head=both), URL).icon == "https://ledger.example/touch.png"
    inline = '<link rel="icon" href="data:image/png;base64,iVBORw0KGgo=">'
    assert extract_article(make_page(head=inline), URL).icon == ""  # only what the image proxy can fetch
    hostile = '<link rel="icon" href="javascript:alert(1)">'
    assert extract_article(make_page(head=hostile), URL).icon == ""
    assert extract_article(make_page(head=""), URL).icon == ""


def test_lead_image_alt_comes_from_the_img_showing_og_image(make_page: Callable[..., str]) -> None:
    head = '<meta property="og:image" content="https://ledger.example/media/depot.jpg?w=1200">'
    figure = (
        '<figure><img src="/media/depot.jpg?w=640" alt="Scaffolding against the depot roof">'
        "<figcaption>The depot in February.</figcaption></figure>"
    )
    result = extract_article(make_page(head=head, before=figure), URL)
    assert result.image == "https://ledger.example/media/depot.jpg?w=1200"
    assert result.image_alt == "Scaffolding against the depot roof"


def test_image_alt_is_empty_when_no_img_matches(make_page: Callable[..., str]) -> None:
    head = '<meta property="og:image" content="https://ledger.example/media/social-card.png">'
    figure = '<figure><img src="/media/other.jpg" alt="A different picture"></figure>'
    result = extract_article(make_page(head=head, before=figure), URL)
    assert result.image == "https://ledger.example/media/social-card.png"
    assert result.image_alt == ""


def test_image_alt_that_is_a_filename_is_dropped(make_page: Callable[..., str]) -> None:
    head = '<meta property="og:image" content="https://ledger.example/media/DSC_0042.jpg">'
    figure = '<figure><img src="/media/DSC_0042.jpg" alt="DSC_0042.jpg"></figure>'
    result = extract_article(make_page(head=head, before=figure), URL)
    assert result.image_alt == ""


def test_site_name_falls_back_to_the_host(make_page: Callable[..., str]) -> None:
    result = extract_article(make_page(), "https://www.ledger.example/a")
    assert result.site_name == "ledger.example"
    assert result.title == "Larkspur Bay to turn old tram depot into covered market"


def test_meta_keywords_are_split_and_deduplicated(make_page: Callable[..., str]) -> None:
    head = '<meta name="keywords" content="trams, markets , Trams,, harbour">'
    assert extract_article(make_page(head=head), URL).tags == ("trams", "markets", "harbour")


def test_time_element_gives_the_date_when_no_meta_has_one(make_page: Callable[..., str]) -> None:
    before = '<p class="dateline"><time datetime="2026-03-03T21:45:00+09:00">3 March</time></p>'
    result = extract_article(make_page(before=before), URL)
    assert result.published == datetime(2026, 3, 3, 12, 45, tzinfo=UTC)


def test_first_figure_gives_the_image_when_the_page_declares_none(make_page: Callable[..., str]) -> None:
    figure = (
        '<figure><img src="data:image/gif;base64,R0lGOD" data-src="/media/depot-roof.jpg"'
        ' alt="Glaziers on the lantern roof"><figcaption>The roof in March.</figcaption></figure>'
    )
    result = extract_article(make_page(before=figure), URL)
    assert result.image == "https://ledger.example/media/depot-roof.jpg"
    assert result.image_alt == "Glaziers on the lantern roof"
