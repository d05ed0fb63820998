"""Feeds out: Atom 1.0 and RSS 2.0 documents, parsed back with lxml and with feedparser (our own ingest parser).

Checks well-formedness, required elements, absolute links, dates that round-trip, escaping and determinism, and
the W3C feed validator's rules (read from its source, as the validator itself cannot be installed here).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree

from broadsheet.models import ArticleCard
from broadsheet.web.feeds import ATOM_TYPE, RSS_TYPE, FeedMeta, article_link, atom_feed, rss_feed

BASE = "https://news.example.org"
NOW = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
META = FeedMeta(
    title="broadsheet — The Lantern Courier",
    self_url=f"{BASE}/outlets/lantern-courier/feed.atom",
    html_url=f"{BASE}/outlets/lantern-courier",
    id=f"{BASE}/outlets/lantern-courier/feed.atom",
    subtitle="Latest from The Lantern Courier",
    lang="en",
)
HOSTILE = "Mayor says <script>alert('x')</script> & ]]> is fine\x00\x07\x1f\ufffe"
HOSTILE_CLEAN = "Mayor says <script>alert('x')</script> & ]]> is fine"


def card(id: int = 1, **changes: Any) -> ArticleCard:
    published = datetime(2026, 3, 30, 14, 5, 9, tzinfo=UTC) - timedelta(hours=id)
    base = ArticleCard(
        id=id,
        title=f"Harbour ferry {id} returns after winter refit",
        url=f"https://lanterncourier.example.com/news/ferry-{id}?utm_source=rss",
        canonical_url=f"https://lanterncourier.example.com/news/ferry-{id}",
        outlet="The Lantern Courier",
        outlet_slug="lantern-courier",
        published=published,
        sort_time=published,
        image=f"https://cdn.lanterncourier.example.com/img/ferry-{id}.jpg",
        image_alt="A ferry at the quay",
        excerpt="The old ferry is back on the water, with new engines & a repainted hull.",
        lang="en",
        tags=("Transport", "Harbour"),
    )
    return replace(base, **changes)


CARDS = [card(1), card(2, outlet="Gull Point Gazette", tags=("Weather",)), card(3, tags=())]


def atom(cards: list[ArticleCard] = CARDS, base_url: str = BASE) -> Any:
    return etree.fromstring(atom_feed(META, cards, base_url, NOW))


def rss(cards: list[ArticleCard] = CARDS, base_url: str = BASE) -> Any:
    return etree.fromstring(rss_feed(META, cards, base_url, NOW))


def parse_rfc3339(value: str) -> datetime:
    assert value.endswith("Z"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None
    return parsed


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- Atom --------------------------------------------------------------------------------------------------


def test_atom_feed_has_required_feed_elements() -> None:
    root = atom()
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert root.findtext("a:id", namespaces=NS) == META.id
    assert root.find("a:title", NS).get("type") == "text"
    assert root.findtext("a:title", namespaces=NS) == META.title
    assert root.findtext("a:subtitle", namespaces=NS) == META.subtitle
    assert root.findtext("a:generator", namespaces=NS) == "broadsheet"
    links = {link.get("rel"): link for link in root.findall("a:link", NS)}
    assert links["self"].get("href") == META.self_url
    assert links["self"].get("type") == "application/atom+xml"
    assert links["alternate"].get("href") == META.html_url
    assert links["alternate"].get("type") == "text/html"


def test_atom_feed_updated_is_newest_entry_time() -> None:
    updated = atom().findtext("a:updated", namespaces=NS)
    assert parse_rfc3339(updated) == CARDS[0].published


def test_atom_entry_carries_id_links_author_summary_categories_and_thumbnail() -> None:
    entry = atom().find("a:entry", NS)
    assert entry.findtext("a:id", namespaces=NS) == "tag:news.example.org,2026:article:1"
    assert entry.find("a:title", NS).get("type") == "text"
    assert entry.findtext("a:title", namespaces=NS) == CARDS[0].title
    links = {link.get("rel"): link.get("href") for link in entry.findall("a:link", NS)}
    assert links == {"alternate": f"{BASE}/articles/1", "related": CARDS[0].canonical_url}
    assert entry.findtext("a:author/a:name", namespaces=NS) == "The Lantern Courier"
    assert entry.find("a:summary", NS).get("type") == "text"
    assert entry.findtext("a:summary", namespaces=NS) == CARDS[0].excerpt
    assert [c.get("term") for c in entry.findall("a:category", NS)] == ["Transport", "Harbour"]
    assert entry.find("media:thumbnail", NS).get("url") == CARDS[0].image
    # An enclosure would need a type and length we do not know.
    assert entry.find("a:link[@rel='enclosure']", NS) is None


def test_atom_entry_dates_are_rfc3339_and_round_trip() -> None:
    for entry, source in zip(atom().findall("a:entry", NS), CARDS, strict=True):
        assert parse_rfc3339(entry.findtext("a:published", namespaces=NS)) == source.published
        assert parse_rfc3339(entry.findtext("a:updated", namespaces=NS)) == source.published


def test_entry_ids_fall_back_to_page_url_on_a_host_a_tag_uri_cannot_name() -> None:
    base = "http://[::1]:8000"
    entry = atom([card(5)], base_url=base).find("a:entry", NS)
    assert entry.findtext("a:id", namespaces=NS) == f"{base}/articles/5"
    guid = rss([card(5)], base_url=base).find("channel/item/guid")
    assert guid.text == f"{base}/articles/5"
    assert guid.get("isPermaLink") == "true"


def test_entry_ids_ignore_scheme_port_and_path_prefix() -> None:
    ids = {
        atom([card(9)], base_url=base).findtext("a:entry/a:id", namespaces=NS)
        for base in ("https://news.example.org", "http://News.example.org:8080/broadsheet/")
    }
    assert ids == {"tag:news.example.org,2026:article:9"}


# --- RSS ---------------------------------------------------------------------------------------------------


def test_rss_channel_has_required_elements() -> None:
    root = rss()
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == META.title
    assert channel.findtext("link") == META.html_url
    assert channel.findtext("description") == META.subtitle
    assert channel.findtext("language") == "en"
    assert channel.findtext("generator") == "broadsheet"
    assert channel.findtext("docs") == "https://www.rssboard.org/rss-specification"
    self_link = channel.find("atom:link", {"atom": NS["a"]})
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == META.self_url
    assert self_link.get("type") == "application/rss+xml"
    for name in ("pubDate", "lastBuildDate"):
        assert parsedate_to_datetime(channel.findtext(name)) == CARDS[0].published
        assert channel.findtext(name).endswith(" GMT")


def test_rss_description_falls_back_to_title_when_no_subtitle() -> None:
    doc = etree.fromstring(rss_feed(replace(META, subtitle="", lang="not a language"), CARDS, BASE, NOW))
    assert doc.findtext("channel/description") == META.title
    assert doc.find("channel/language") is None


def test_rss_item_carries_link_guid_date_creator_and_categories() -> None:
    item = rss().find("channel/item")
    assert item.findtext("title") == CARDS[0].title
    assert item.findtext("link") == f"{BASE}/articles/1"
    guid = item.find("guid")
    assert guid.text == "tag:news.example.org,2026:article:1"
    assert guid.get("isPermaLink") == "false"
    assert parsedate_to_datetime(item.findtext("pubDate")) == CARDS[0].published
    # Description is HTML by convention: the plain-text excerpt is escaped once for HTML, once for XML.
    assert (
        item.findtext("description")
        == "The old ferry is back on the water, with new engines &amp; a repainted hull."
    )
    assert unescape(item.findtext("description")) == CARDS[0].excerpt
    assert item.findtext("dc:creator", namespaces=NS) == "The Lantern Courier"
    # <source url> must be the outlet's feed URL, which a card does not have.
    assert item.find("source") is None
    assert [c.text for c in item.findall("category")] == ["Transport", "Harbour"]
    assert item.find("media:thumbnail", NS).get("url") == CARDS[0].image


# --- both --------------------------------------------------------------------------------------------------


def test_every_link_in_both_feeds_is_absolute() -> None:
    relative_image = [card(4, image="/img/ferry-4.jpg"), card(6, image="data:image/png;base64,AAAA")]
    for root in (atom(relative_image), rss(relative_image)):
        urls = [el.get(attr) for el in root.iter() for attr in ("href", "url") if el.get(attr)]
        urls += [el.text for el in root.iter("link")]
        assert urls
        assert all(is_absolute(url) for url in urls), urls
        thumbs = [el.get("url") for el in root.iter("{http://search.yahoo.com/mrss/}thumbnail")]
        assert thumbs == ["https://lanterncourier.example.com/img/ferry-4.jpg"]


def test_hostile_title_and_excerpt_produce_well_formed_xml_with_text_intact() -> None:
    hostile = card(
        7, title=HOSTILE, excerpt="a < b && c ]]> d\x0b", outlet="Fish & <Chips>\x1b", tags=("<b>",)
    )
    entry = atom([hostile]).find("a:entry", NS)
    assert entry.findtext("a:title", namespaces=NS) == HOSTILE_CLEAN
    assert entry.findtext("a:summary", namespaces=NS) == "a < b && c ]]> d"
    assert entry.findtext("a:author/a:name", namespaces=NS) == "Fish & <Chips>"
    assert entry.find("a:category", NS).get("term") == "<b>"
    item = rss([hostile]).find("channel/item")
    assert item.findtext("title") == HOSTILE_CLEAN
    assert unescape(item.findtext("description")) == "a < b && c ]]> d"
    assert item.findtext("dc:creator", namespaces=NS) == "Fish & <Chips>"
    for raw in (atom_feed(META, [hostile], BASE, NOW), rss_feed(META, [hostile], BASE, NOW)):
        assert b"<script>" not in raw
        assert b"\x00" not in raw


def test_empty_feeds_are_valid_and_dated_now() -> None:
    root = atom([])
    assert root.find("a:entry", NS) is None
    assert parse_rfc3339(root.findtext("a:updated", namespaces=NS)) == NOW
    channel = rss([]).find("channel")
    assert channel.find("item") is None
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == NOW
    for raw in (atom_feed(META, [], BASE, NOW), rss_feed(META, [], BASE, NOW)):
        assert feedparser.parse(raw).bozo == 0


def test_missing_published_uses_sort_time_and_naive_or_offset_times_become_utc() -> None:
    stored = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    cards = [
        card(1, published=None, sort_time=stored),
        card(2, published=datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))),
        card(3, published=datetime(2026, 3, 1, 10, 0)),
    ]
    published = [e.findtext("a:published", namespaces=NS) for e in atom(cards).findall("a:entry", NS)]
    assert published == ["2026-03-01T10:00:00Z"] * 3
    dates = [i.findtext("pubDate") for i in rss(cards).findall("channel/item")]
    assert dates == ["Sun, 01 Mar 2026 10:00:00 GMT"] * 3


def test_output_is_deterministic_and_ignores_the_clock_when_there_are_entries() -> None:
    later = NOW + timedelta(days=3)
    assert atom_feed(META, CARDS, BASE, NOW) == atom_feed(META, CARDS, BASE, later)
    assert rss_feed(META, CARDS, BASE, NOW) == rss_feed(META, CARDS, BASE, later)


def test_duplicate_and_blank_tags_are_dropped() -> None:
    tagged = card(8, tags=("Harbour", " ", "Harbour", "Tides\n"))
    assert [c.get("term") for c in atom([tagged]).iter(f"{{{NS['a']}}}category")] == ["Harbour", "Tides"]
    assert [c.text for c in rss([tagged]).iter("category")] == ["Harbour", "Tides"]


def test_feedparser_reads_both_feeds_back() -> None:
    cards = [*CARDS, card(7, title=HOSTILE)]
    atom_doc = feedparser.parse(atom_feed(META, cards, BASE, NOW))
    rss_doc = feedparser.parse(rss_feed(META, cards, BASE, NOW))
    assert atom_doc.bozo == 0, atom_doc.get("bozo_exception")
    assert rss_doc.bozo == 0, rss_doc.get("bozo_exception")
    assert atom_doc.version == "atom10"
    assert rss_doc.version == "rss20"
    for doc in (atom_doc, rss_doc):
        assert doc.feed.title == META.title
        assert doc.feed.link == META.html_url
        assert len(doc.entries) == len(cards)
        for entry, source in zip(doc.entries, cards, strict=True):
            assert entry.link == article_link(BASE, source)
            assert entry.id == f"tag:news.example.org,2026:article:{source.id}"
            assert source.published is not None
            assert calendar.timegm(entry.published_parsed) == int(source.published.timestamp())
            assert [t.term for t in entry.get("tags", [])] == list(source.tags)
            assert entry.media_thumbnail[0]["url"] == source.image
    # Titles are plain text in both formats, so even the hostile one comes back as written (less controls).
    for doc in (atom_doc, rss_doc):
        assert [e.title for e in doc.entries] == [c.title for c in cards[:-1]] + [HOSTILE_CLEAN]
    assert [e.author for e in atom_doc.entries][:2] == ["The Lantern Courier", "Gull Point Gazette"]
    assert atom_doc.entries[0].summary == CARDS[0].excerpt
    # RSS descriptions are HTML to feedparser: the excerpt comes back escaped once, as we wrote it.
    assert unescape(rss_doc.entries[0].summary) == CARDS[0].excerpt


def test_broken_publisher_urls_are_left_out_and_the_outlet_falls_back_to_the_host() -> None:
    broken = card(11, canonical_url="http://[oops/", image="http://[oops/i.jpg", outlet="", outlet_slug="")
    entry = atom([broken]).find("a:entry", NS)
    assert entry.find("a:link[@rel='related']", NS).get("href") == broken.url
    assert entry.findtext("a:author/a:name", namespaces=NS) == "lanterncourier.example.com"
    assert entry.find("media:thumbnail", NS) is None


def test_relative_base_url_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        atom_feed(META, CARDS, "/", NOW)


def test_media_types_and_article_link() -> None:
    assert ATOM_TYPE == "application/atom+xml; charset=utf-8"
    assert RSS_TYPE == "application/rss+xml; charset=utf-8"
    assert article_link("https://news.example.org/", card(42)) == "https://news.example.org/articles/42"


# --- the W3C feed validator's rules (its source: w3c/feedvalidator), checked on our output -------------------

# validators.rfc2396: the characters a link, id or thumbnail URL may hold; anything else is an error there.
URI_CHARS = re.compile(r"[0-9A-Za-z;/?:@&=+$.\-_!~*'()%,#]+")
# validators.rfc3339 and rfc822 (with the day of the week checked against the date).
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
RFC822 = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                    r"\d\d:\d\d:\d\d (GMT|[+-]\d{4})")  # fmt: skip
AWKWARD = [
    card(
        21, url="https://ex.example/a b|c?q=ü&r=[1]", canonical_url="", image="https://ex.example/img ü.jpg"
    ),
    card(22, url="https://bücher.example/straße?x=100%", canonical_url="", image="/pics/a%20b.jpg"),
    card(23, url="https://ex.example/already%20encoded?q=%C3%BC", canonical_url="", excerpt="   "),
]


def uris(root: Any) -> list[str]:
    found = [el.get(a) for el in root.iter() for a in ("href", "url") if el.get(a)]
    found += [el.text for el in root.iter("link", "guid", "{http://www.w3.org/2005/Atom}id") if el.text]
    return [u for u in found if not u.startswith("tag:")]


def test_every_address_is_a_uri_even_from_publisher_addresses_that_are_not() -> None:
    meta = replace(META, self_url=f"{BASE}/tags/café.atom?q=a|b", id=f"{BASE}/tags/café.atom?q=a|b")
    for root in (etree.fromstring(atom_feed(meta, AWKWARD, BASE, NOW)),
                 etree.fromstring(rss_feed(meta, AWKWARD, BASE, NOW))):  # fmt: skip
        found = uris(root)
        assert len(found) >= 8
        assert all(URI_CHARS.fullmatch(u) for u in found), found
    entry = etree.fromstring(atom_feed(meta, AWKWARD, BASE, NOW)).findall("a:entry", NS)
    related = [e.find("a:link[@rel='related']", NS).get("href") for e in entry]
    assert related == [
        "https://ex.example/a%20b%7Cc?q=%C3%BC&r=%5B1%5D",
        "https://xn--bcher-kva.example/stra%C3%9Fe?x=100%25",  # a lone % is a percent sign, not an escape
        "https://ex.example/already%20encoded?q=%C3%BC",  # what is encoded stays as it was
    ]
    thumbs = [e.find("media:thumbnail", NS).get("url") for e in entry[:2]]
    assert thumbs == ["https://ex.example/img%20%C3%BC.jpg", "https://xn--bcher-kva.example/pics/a%20b.jpg"]
    self_link = etree.fromstring(atom_feed(meta, AWKWARD, BASE, NOW)).find("a:link[@rel='self']", NS)
    assert self_link.get("href") == f"{BASE}/tags/caf%C3%A9.atom?q=a%7Cb"


def test_dates_match_the_validators_formats_with_the_right_day_of_the_week() -> None:
    cards = [card(i) for i in range(1, 40, 3)]
    root = atom(cards)
    stamps = [el.text for el in root.iter("{http://www.w3.org/2005/Atom}updated",
                                          "{http://www.w3.org/2005/Atom}published")]  # fmt: skip
    assert len(stamps) == 1 + 2 * len(cards)
    assert all(RFC3339.fullmatch(s) for s in stamps), stamps
    dates = [el.text for el in rss(cards).iter("pubDate", "lastBuildDate")]
    assert all(RFC822.fullmatch(d) for d in dates), dates
    for text in dates:
        parsed = parsedate_to_datetime(text)
        assert text[:3] == calendar.day_abbr[parsed.weekday()]


def test_a_language_is_named_only_when_validators_know_it() -> None:
    for given, written in (("en", "en"), ("pt_BR", "pt-BR"), ("yue", None), ("xx", None), ("english", None)):
        meta = replace(META, lang=given)
        entry = atom([card(1, lang=given)]).find("a:entry", NS)
        assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == written
        assert etree.fromstring(rss_feed(meta, CARDS, BASE, NOW)).findtext("channel/language") == written


def test_bad_characters_repeated_articles_and_empty_summaries() -> None:
    garbled = card(31, title="Caf\ufffd opens \x85again\x9f", excerpt="")
    cards = [garbled, card(1), garbled, card(1)]
    root = atom(cards)
    entries = root.findall("a:entry", NS)
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == [
        "tag:news.example.org,2026:article:31",
        "tag:news.example.org,2026:article:1",
    ]
    assert entries[0].findtext("a:title", namespaces=NS) == "Caf opens again"
    assert entries[0].findtext("a:summary", namespaces=NS) == "Caf opens again"  # the title stands in
    guids = [g.text for g in rss(cards).iter("guid")]
    assert len(guids) == len(set(guids)) == 2


def test_hosts_are_written_as_browsers_map_them_and_bad_ones_are_left_out() -> None:
    cards = [
        card(41, url="https://straße.example/news", canonical_url=""),  # IDNA 2008: not strasse.example
        card(42, url="https://exa mple.example/news", canonical_url="", image="https://img.example/x.jpg"),
        card(43, url="https://user%zz:pw@host.example:8443/a", canonical_url=""),
    ]
    entries = atom(cards).findall("a:entry", NS)
    related = [e.find("a:link[@rel='related']", NS) for e in entries]
    assert related[0].get("href") == "https://xn--strae-oqa.example/news"
    assert related[1] is None  # a host with a space is no address: left out, the entry kept
    assert related[2].get("href") == "https://user%25zz:pw@host.example:8443/a"


def test_a_repeated_article_stays_where_it_first_appears() -> None:
    entries = atom([card(1), card(2), card(1, title="Changed"), card(3)]).findall("a:entry", NS)
    assert [e.findtext("a:title", namespaces=NS) for e in entries] == [
        card(1).title,
        card(2).title,
        card(3).title,
    ]


def test_the_feeds_own_addresses_are_kept_when_they_cannot_be_rewritten() -> None:
    meta = replace(META, self_url=f"{BASE}:99999/feed.atom", id="tag:news.example.org,2026:feed")
    root = etree.fromstring(atom_feed(meta, CARDS, BASE, NOW))
    assert root.find("a:link[@rel='self']", NS).get("href") == f"{BASE}:99999/feed.atom"
    assert root.findtext("a:id", namespaces=NS) == "tag:news.example.org,2026:feed"
