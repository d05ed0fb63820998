"""Section and genre of invented pages through `extract_article`: schema.org article types, a critic's Review
node, Facebook's article:opinion tag, live blogs whose updates carry headlines of their own."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from broadsheet.extract import extract_article

URL = "https://ledger.example/local/2026/03/tram-depot-market"


def _jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _article(types: object, **fields: object) -> str:
    return _jsonld({"@context": "https://schema.org", "@type": types, "headline": "Depot plan", **fields})


@pytest.mark.parametrize(
    ("types", "genre"),
    [
        ("OpinionNewsArticle", "opinion"),
        (["NewsArticle", "AnalysisNewsArticle"], "analysis"),
        ("BackgroundNewsArticle", "analysis"),
        ("https://schema.org/ReviewNewsArticle", "review"),
        ("schema:LiveBlogPosting", "live"),
        ("ReportageNewsArticle", ""),
        ("AskPublicNewsArticle", ""),
        ("NewsArticle", ""),
    ],
)
def test_schema_org_article_types_give_the_genre(
    make_page: Callable[..., str], types: object, genre: str
) -> None:
    assert extract_article(make_page(head=_article(types)), URL).genre == genre


def test_section_is_read_from_jsonld_article_section(make_page: Callable[..., str]) -> None:
    head = _article("NewsArticle", articleSection="Local news")
    assert extract_article(make_page(head=head), URL).section == "Local news"


def test_the_first_of_a_list_of_sections_is_taken(make_page: Callable[..., str]) -> None:
    head = _article("OpinionNewsArticle", articleSection=["", "Comment", "Columnists"])
    result = extract_article(make_page(head=head), URL)
    assert (result.section, result.genre) == ("Comment", "opinion")


def test_facebook_opinion_tag_and_og_section_are_read(make_page: Callable[..., str]) -> None:
    head = (
        '<meta property="article:section" content="Opinion"><meta property="article:opinion" content="true">'
    )
    result = extract_article(make_page(head=head), URL)
    assert (result.section, result.genre) == ("Opinion", "opinion")


def test_opinion_tag_set_to_false_is_news(make_page: Callable[..., str]) -> None:
    head = (
        '<meta property="article:opinion" content="false"><meta property="article:section" content="Local">'
    )
    result = extract_article(make_page(head=head), URL)
    assert (result.section, result.genre) == ("Local", "")


def test_jsonld_type_wins_over_the_opinion_tag(make_page: Callable[..., str]) -> None:
    head = _article("AnalysisNewsArticle") + '<meta property="article:opinion" content="true">'
    assert extract_article(make_page(head=head), URL).genre == "analysis"


def test_critic_review_node_beside_the_news_article_makes_a_review(make_page: Callable[..., str]) -> None:
    review = {
        "@context": "https://schema.org",
        "@type": "Review",
        "itemReviewed": {"@type": "Movie", "name": "The Lantern Roof"},
        "reviewRating": {"@type": "Rating", "ratingValue": 4, "bestRating": 5},
    }
    head = _article("NewsArticle", articleSection="Film") + _jsonld(review)
    result = extract_article(make_page(head=head), URL)
    assert (result.section, result.genre) == ("Film", "review")


@pytest.mark.parametrize(
    "head",
    [
        '<meta name="genre" content="Opinion">',
        '<meta property="article:content_tier" content="metered">',
        '<meta property="og:type" content="article">',
        "",
    ],
)
def test_other_meta_tags_say_nothing_about_the_genre(make_page: Callable[..., str], head: str) -> None:
    result = extract_article(make_page(head=head), URL)
    assert (result.section, result.genre) == ("", "")


def test_live_blog_is_extracted_with_its_own_headline_not_an_update(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    updates = [
        {
            "@type": "BlogPosting",
            "headline": f"Update {n}: scaffolding arrives",
            "articleBody": f"Update {n}. The first lorries of scaffolding reached Quay Street this morning.",
            "datePublished": f"2026-03-03T1{n}:00:00Z",
        }
        for n in range(3)
    ]
    head = _jsonld(
        {
            "@context": "https://schema.org",
            "@type": "LiveBlogPosting",
            "headline": "Tram depot works: live",
            "articleSection": "Local",
            "coverageStartTime": "2026-03-03T09:00:00Z",
            "liveBlogUpdate": updates,
        }
    )
    result = extract_article(make_page(head=head), URL)
    assert (result.title, result.genre, result.section) == ("Tram depot works: live", "live", "Local")
    assert paragraphs[0] in result.text


def test_live_blog_updates_given_by_reference_are_not_the_article(make_page: Callable[..., str]) -> None:
    head = _jsonld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "BlogPosting",
                    "@id": "#update-1",
                    "headline": "Roof glazing begins",
                    "articleBody": "Glaziers started on the lantern roof.",
                },
                {
                    "@type": "LiveBlogPosting",
                    "@id": "#live",
                    "headline": "Depot works, as they happen",
                    "liveBlogUpdate": [{"@id": "#update-1"}],
                },
            ],
        }
    )
    result = extract_article(make_page(head=head), URL)
    assert (result.title, result.genre) == ("Depot works, as they happen", "live")
