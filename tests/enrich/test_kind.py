"""An article's kind from its markup and cues, and the headlines and URLs that only look like a cue.

Every URL, headline and name here is invented for these tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from broadsheet.enrich.kind import KINDS, article_kind

NEWS_URL = "https://ledger.example/local/2026/03/04/tram-depot-market"


def kind(
    *,
    url: str = NEWS_URL,
    title: str = "Larkspur Bay to turn old tram depot into covered market",
    genre: str = "",
    section: str = "",
    tags: Sequence[str] = (),
    author: str = "",
    text: str = "",
) -> str:
    return article_kind(
        url=url, title=title, genre=genre, section=section, tags=tags, author=author, text=text
    )


def test_a_plain_report_is_news() -> None:
    assert kind() == "news"


@pytest.mark.parametrize("genre", ["opinion", "analysis", "live", "review"])
def test_the_markup_genre_wins_over_every_cue(genre: str) -> None:
    assert kind(genre=genre, url="https://ledger.example/opinion/x", title="Depot live: updates") == genre


def test_unknown_genre_is_ignored() -> None:
    assert kind(genre="satire") == "news"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ledger.example/opinion/2026/03/04/why-the-depot-matters", "opinion"),
        ("https://ledger.example/commentisfree/2026/mar/04/depot", "opinion"),
        ("https://ledger.example/comment/columnists/depot-roof", "opinion"),
        ("https://ledger.example/2026/03/04/opinions/depot-market-index.html", "opinion"),
        ("https://ledger.example/editorials/the-depot-deserves-better", "opinion"),
        ("https://zeitung.example/politik/meinung/kommentar-zum-markt-a-123", "opinion"),
        ("https://journal.example/idees/article/2026/03/04/le-depot_123.html", "opinion"),
        ("https://diario.example/opini%C3%B3n/2026-03-04/el-deposito.html", "opinion"),
        ("https://giornale.example/opinioni/il-deposito", "opinion"),
        ("https://jornal.example/opiniao/o-deposito", "opinion"),
        ("https://krant.example/opinie/het-depot", "opinion"),
        ("https://casnik.example/mnenja/kolumne/depo", "opinion"),
        ("https://opinion.ledger.example/2026/03/04/depot", "opinion"),
        ("https://ledger.example/news/analysis/what-the-depot-vote-means", "analysis"),
        ("https://ledger.example/world/live/2026/mar/04/storm-updates", "live"),
        ("https://ledger.example/world/live-news/storm-03-04-26", "live"),
        ("https://ledger.example/news/liveblog/storm", "live"),
        ("https://ledger.example/weather/storm-hits-the-coast-live-updates", "live"),
        ("https://ledger.example/sport/2026/03/04/cup-final-as-it-happened", "live"),
        ("https://ledger.example/culture/reviews/the-lantern-roof", "review"),
        ("https://zeitung.example/kultur/kritik/die-laterne", "review"),
        ("https://giornale.example/recensioni/la-lanterna", "review"),
    ],
)
def test_url_path_segments_give_the_kind(url: str, expected: str) -> None:
    assert kind(url=url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://ledger.example/health/liver-transplant-waiting-lists",
        "https://ledger.example/business/live-nation-shares-fall",
        "https://ledger.example/local/couriers-deliver-live-lobsters",
        "https://ledger.example/politics/opinion-polls-show-tight-race",
        "https://ledger.example/us/supreme-court-to-review-ferry-case",
        "https://ledger.example/politics/analysis-of-votes-shows-turnout-rise",
        "https://live.ledger.example/local/depot",
    ],
)
def test_cue_words_inside_the_slug_or_a_word_are_not_cues(url: str) -> None:
    assert kind(url=url) == "news"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("Opinion", "opinion"),
        ("Comment is free", "opinion"),
        ("Meinung", "opinion"),
        ("Opinión", "opinion"),
        ("News analysis", "analysis"),
        ("Book reviews", "review"),
        ("Liveblog", "live"),
        ("Live sport", "news"),
        ("Local", "news"),
    ],
)
def test_section_names_give_the_kind(section: str, expected: str) -> None:
    assert kind(section=section) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Opinion: The depot deserves a better roof", "opinion"),
        ("OPINION | Why Larkspur Bay needs its market", "opinion"),
        ("Comment: The council got this one right", "opinion"),
        ("Editorial: A market for everyone", "opinion"),
        ("The Ledger view on the tram depot: a roof worth saving", "opinion"),
        ("The depot vote was a mistake | Letters", "opinion"),
        ("Meinung: Der Markt kommt zu spät", "opinion"),
        ("Analysis: What the depot vote means for the harbour", "analysis"),
        ("Explained: How the market hall will be run", "analysis"),
        ("Storm Orla live: ferries cancelled as winds reach 90mph", "live"),
        ("Storm Orla hits the coast – live", "live"),
        ("Cup final: Larkspur 2-1 Quayside – as it happened", "live"),
        ("Storm Orla: live updates", "live"),
        ("LIVE: Counting under way in the harbour ward", "live"),
        ("DIRECT. Tempête Orla : les ferries à quai", "live"),
        ("Tempête Orla, en direct : les ferries à quai", "live"),
        ("The Lantern Roof review – a quiet triumph of a film", "review"),
        ("The Lantern Roof review: a quiet triumph", "review"),
        ("Review: ‘The Lantern Roof’ is a quiet triumph", "review"),
        ("The Lantern Roof ★★★★☆", "review"),
    ],
)
def test_headline_labels_give_the_kind(title: str, expected: str) -> None:
    assert kind(title=title) == expected


@pytest.mark.parametrize(
    "title",
    [
        "Supreme Court to review ferry licence case",
        "Supreme Court to review: what the ferry case means",
        "Government review: depot rules to be relaxed",
        "Spending review – councils face cuts",
        "Live Nation buys the harbour arena",
        "Live Nation: ticket prices to rise",
        "Couriers deliver live lobsters to the market",
        "Liver transplant waiting lists grow",
        "Where to live: the towns with the cheapest rents",
        "Opinion polls show a tight race in the harbour ward",
        "Opinion poll: Labour ahead in Larkspur Bay",
        "No comment: minister refuses to discuss depot",
        "DNA analysis – police identify the Quay Street burglar",
        "Concert to be broadcast live on the harbour screen",
        "Le match diffusé en direct sur la chaîne locale",
    ],
)
def test_headlines_that_only_look_like_a_label_are_news(title: str) -> None:
    assert kind(title=title) == "news"


def test_publisher_tags_name_the_kind_only_as_a_whole_tag() -> None:
    assert kind(tags=["Larkspur Bay", "Opinion"]) == "opinion"
    assert kind(tags=["Film", "Reviews"]) == "review"
    assert kind(tags=["Opinion polls", "Live Nation", "Liver"]) == "news"


def test_an_editorial_board_byline_is_opinion() -> None:
    assert kind(author="The Editorial Board") == "opinion"
    assert kind(author="Imelda Varga") == "news"


def test_an_opinion_disclaimer_in_the_text_is_opinion() -> None:
    text = "Editor's note: Imelda Varga is a writer. The views expressed in this commentary are her own.\n\nThe depot..."
    assert kind(text=text) == "opinion"


def test_a_run_of_time_stamped_entries_is_a_live_blog() -> None:
    entries = "\n\n".join(f"{9 + n}.{10 * (n % 6):02d} GMT\n\nFerry update number {n}." for n in range(7))
    assert kind(text=entries) == "live"


def test_a_short_timeline_in_a_report_stays_news() -> None:
    text = "\n\n".join(["The storm arrived overnight.", "10.30am: the ferry was held.", *["More."] * 12])
    assert kind(text=text) == "news"


def test_url_wins_over_the_headline() -> None:
    assert kind(url="https://ledger.example/opinion/depot", title="Analysis: The depot") == "opinion"


def test_every_answer_is_one_of_the_kinds() -> None:
    assert kind(title="The Lantern Roof review – a quiet triumph") in KINDS
    assert KINDS[0] == "news"
