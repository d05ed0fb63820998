"""RSS 0.91/1.0/2.0 and Atom 1.0 through parse_feed: fields, URLs, dates, encodings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from broadsheet.models import SourceKind
from broadsheet.sources import parse_feed

Read = Callable[[str], bytes]


def test_rss091_with_netscape_doctype_parses(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss091_netscape.xml"), "https://gazette.example.net/rss.xml")
    assert feed.kind is SourceKind.FEED
    assert feed.format == "rss091n"
    assert feed.title == "The Millbrook Gazette"
    assert feed.lang == "en-us"
    assert [e.url for e in feed.entries] == [
        "https://gazette.example.net/2024/bridge-reopens",
        "https://gazette.example.net/2024/library-hours",
    ]
    assert feed.entries[0].lang == "en-us"


def test_rss10_rdf_entry_has_creator_date_and_subject(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss10_rdf.xml"), "https://science.example.org/index.rdf")
    assert feed.format == "rss10"
    (entry,) = feed.entries
    assert entry.title == "Moss grows faster in song"
    assert entry.author == "Dr. Ilse Beispiel"
    assert entry.published == datetime(2024, 3, 14, 8, 30, tzinfo=UTC)
    assert entry.tags == ("Botany",)


def test_rss20_entry_fields_are_normalised(fixture_bytes: Read) -> None:
    feed = parse_feed(
        fixture_bytes("rss20_full.xml"), "https://harbourhill.example.com/feed", "application/rss+xml"
    )
    assert feed.format == "rss20"
    assert feed.title == "Harbour & Hill Daily"
    assert feed.site_url == "https://harbourhill.example.com/"
    first = feed.entries[0]
    assert first.url == "https://harbourhill.example.com/news/ferry-plan"
    assert first.title == "Council votes on new ferry & tram plan"
    assert first.guid == "hh-1001"
    assert first.published == datetime(2024, 5, 7, 7, 15, tzinfo=UTC)
    assert first.author == "Ada Quill, Ben Ink"
    assert first.tags == ("Transport", "Council")
    assert first.summary == "The council met late into the night."
    assert 'href="https://harbourhill.example.com/news/ferry-plan/minutes"' in first.content_html
    assert "<script" not in first.content_html
    assert first.image == "https://harbourhill.example.com/img/ferry.jpg"
    assert first.lang == "en-GB"


def test_rss20_guid_permalink_used_when_link_missing(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss20_full.xml"), "https://harbourhill.example.com/feed")
    second = feed.entries[1]
    assert second.url == "https://harbourhill.example.com/news/fish-market"
    assert second.author == "Cora Pen"
    assert second.image == "https://cdn.harbourhill.example.com/fish.png"


def test_naive_pubdate_is_taken_as_utc(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss20_full.xml"), "https://harbourhill.example.com/feed")
    assert feed.entries[1].published == datetime(2024, 5, 6, 17, 0, tzinfo=UTC)


def test_entry_without_url_is_skipped(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss20_full.xml"), "https://harbourhill.example.com/feed")
    assert len(feed.entries) == 2
    assert all(e.guid != "hh-1003" for e in feed.entries)


def test_atom_links_resolve_against_xml_base(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("atom10_base.xml"), "https://notes.example.org/blog/feed.atom")
    assert feed.format == "atom10"
    assert feed.title == "Carnet d'exemple"
    assert feed.description == "Un blog inventé"
    assert feed.site_url == "https://notes.example.org/"
    assert [e.url for e in feed.entries] == [
        "https://notes.example.org/blog/posts/premier",
        "https://mirror.example.org/deux",
    ]
    assert 'src="https://notes.example.org/blog/images/un.png"' in feed.entries[0].content_html


def test_atom_updated_only_dates_leave_published_empty(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("atom10_base.xml"), "https://notes.example.org/blog/feed.atom")
    first, second = feed.entries
    assert first.published is None
    assert first.updated == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert second.updated == datetime(2024, 5, 3, tzinfo=UTC)
    assert first.updated.tzinfo is not None


def test_atom_entry_authors_tags_and_lang(fixture_bytes: Read) -> None:
    first = parse_feed(fixture_bytes("atom10_base.xml"), "https://notes.example.org/blog/feed.atom").entries[
        0
    ]
    assert first.author == "Zoé Exemple, Yann Modèle"
    assert first.tags == ("Carnet",)
    assert first.lang == "fr"
    assert first.summary == "<p>Résumé court</p>"
    assert first.guid == "tag:notes.example.org,2024:1"


def test_atom03_feed_parses() -> None:
    atom03 = b"""<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old Atom</title><link rel="alternate" type="text/html" href="https://old.example.com/"/>
  <entry><title>Legacy</title><link rel="alternate" type="text/html" href="https://old.example.com/1"/>
  <issued>2004-01-01T00:00:00Z</issued><modified>2004-01-02T00:00:00Z</modified></entry>
</feed>"""
    feed = parse_feed(atom03, "https://old.example.com/atom.xml")
    assert feed.format == "atom03"
    assert feed.entries[0].url == "https://old.example.com/1"


def test_windows_1252_body_declared_utf8_reads_cafe() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        "<rss version='2.0'><channel><title>Le Caf\u00e9 du Coin</title>"
        "<item><title>Un caf\u00e9 \u2013 \u201cd\u00e9licieux\u201d</title><link>https://coin.example.fr/1</link>"
        "</item></channel></rss>"
    ).encode("windows-1252")
    feed = parse_feed(body, "https://coin.example.fr/feed", "application/rss+xml; charset=utf-8")
    assert feed.title == "Le Café du Coin"
    assert feed.entries[0].title == "Un café – “délicieux”"


def test_latin1_feed_without_declaration_reads_cafe() -> None:
    body = (
        "<rss version='2.0'><channel><title>Caf\u00e9 Gazette</title><item><title>Caf\u00e9 ouvert</title>"
        "<link>https://gazette.example.fr/cafe</link></item></channel></rss>"
    ).encode("latin-1")
    feed = parse_feed(body, "https://gazette.example.fr/feed")
    assert feed.entries[0].title == "Café ouvert"


def test_truncated_feed_keeps_recovered_entries() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Cut Off News</title>
<item><title>Complete story</title><link>https://cutoff.example.com/1</link></item>
<item><title>Half a sto"""
    feed = parse_feed(body, "https://cutoff.example.com/feed")
    assert feed.title == "Cut Off News"
    assert feed.entries[0].url == "https://cutoff.example.com/1"


def _big_rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story {i} &amp; more</title><link>/s/{i}</link><guid>g{i}</guid>"
        f"<pubDate>Tue, 07 May 2024 08:15:00 +0000</pubDate><category>c{i % 7}</category>"
        f"<description>&lt;p&gt;Summary {i} with &lt;a href='/x'&gt;a link&lt;/a&gt;&lt;/p&gt;"
        "</description></item>"
        for i in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    )


def test_two_hundred_entry_feed_is_read_whole() -> None:
    feed = parse_feed(_big_rss(200), "https://big.example.com/feed")
    assert len(feed.entries) == 200 and len({e.url for e in feed.entries}) == 200


def test_feed_served_as_text_html_is_still_parsed(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss20_full.xml"), "https://harbourhill.example.com/feed", "text/html")
    assert feed.format == "rss20"


def test_media_thumbnail_is_used_and_itunes_image_ignored() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Pods</title>
<item><title>Show logo only</title><link>https://pods.example.com/1</link>
  <itunes:image href="https://pods.example.com/logo.png"/>
  <enclosure url="https://pods.example.com/1.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Thumb</title><link>https://pods.example.com/2</link>
  <media:content url="https://pods.example.com/2.mp4" type="video/mp4"/>
  <media:thumbnail url="https://pods.example.com/2.jpg"/></item>
</channel></rss>"""
    first, second = parse_feed(body, "https://pods.example.com/feed").entries
    assert first.image == ""
    assert second.image == "https://pods.example.com/2.jpg"


def test_atom_content_without_summary_is_not_copied_into_summary() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>Only content</title>
<entry><title>x</title><link href="https://content.example.org/1"/><id>urn:1</id>
<updated>2024-01-01T00:00:00Z</updated>
<content type="html">&lt;p&gt;The whole story&lt;/p&gt;</content></entry>
</feed>"""
    (entry,) = parse_feed(body, "https://content.example.org/feed").entries
    assert entry.content_html == "<p>The whole story</p>"
    assert entry.summary == ""


def test_rss090_and_utf16_rss092_parse() -> None:
    rss090 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
<channel><title>Old</title><link>https://old.example/</link></channel>
<item><title>One</title><link>https://old.example/1</link></item></rdf:RDF>"""
    assert parse_feed(rss090, "https://old.example/rss").format == "rss090"
    rss092 = (
        '<?xml version="1.0" encoding="utf-16"?><rss version="0.92"><channel><title>Über</title>'
        "<item><title>Grüße</title><link>https://uber.example/1</link></item></channel></rss>"
    ).encode("utf-16")
    feed = parse_feed(rss092, "https://uber.example/rss")
    assert (feed.format, feed.title, feed.entries[0].title) == ("rss092", "Über", "Grüße")
