"""The article lookups dedupe makes for every article it is given (`Store.articles`), on each back end: which
addresses already lead to an article, one by one or in lists, and the original of a text already stored."""

from __future__ import annotations

from storefill import Add

from broadsheet.dedupe import Action
from broadsheet.store import Store


def test_known_urls_finds_the_addresses_stored_however_many_are_asked(store: Store, add: Add) -> None:
    ids = [
        add(f"Ferry timetable {i} changes", f"The ferry timetable changes for the {i} winter crossings.")
        for i in range(12)
    ]
    stored = {store.articles.get(i).canonical_url: i for i in ids}
    urls = sorted(stored)
    unknown = [f"https://thealdergazette.example/news/none-{i}" for i in range(12)]
    assert store.articles.known_urls([]) == {}
    assert store.articles.known_urls(unknown[:2]) == {}
    few = [urls[0], unknown[0], urls[5]]  # looked up one statement each
    assert store.articles.known_urls(few) == {urls[0]: stored[urls[0]], urls[5]: stored[urls[5]]}
    many = urls + unknown  # in IN lists
    assert store.articles.known_urls(many) == stored


def test_by_content_hash_gives_the_original_not_its_copy(store: Store, add: Add) -> None:
    text = "The harbour authority opened the new pier to fishing boats on Monday morning."
    original = add("New pier opens", text, outlet="The Alder Gazette")
    copy = add("New pier opens", text, outlet="Wire Service", expect=Action.COPY)
    held = store.articles.known(copy)
    assert held.duplicate_of == original
    found = store.articles.by_content_hash(held.content_hash)
    assert found is not None and found.id == original
    assert found.published == store.articles.known(original).published is not None
    assert store.articles.by_content_hash("0" * len(held.content_hash)) is None
