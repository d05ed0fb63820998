"""The starter packs shipped with the project (sources/data/starter.opml): what a new installation offers."""

from __future__ import annotations

from urllib.parse import urlsplit

from broadsheet.sources.starter import starter_packs


def test_every_subject_has_a_pack_of_named_feeds_in_several_languages() -> None:
    packs = {p.slug: p for p in starter_packs()}
    assert list(packs) == ["world-news", "technology", "science", "business", "sport"]
    for pack in packs.values():
        assert len(pack.feeds) >= 5, pack.name
        assert len(pack.languages) >= 3 and pack.languages[0] == "en", pack.name
        for feed in pack.feeds:
            assert feed.title and feed.folder == pack.name
            assert urlsplit(feed.url).scheme == "https" and urlsplit(feed.site_url).scheme == "https", feed
            assert len(feed.language) == 2 and feed.language.islower(), feed
    assert {"en", "fr", "de", "es"} <= set(packs["world-news"].languages)
    every = [f.url for p in packs.values() for f in p.feeds]
    assert len(every) == len(set(every))  # no feed in two packs
