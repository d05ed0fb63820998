"""`Store.reads.related`: articles sharing the distinctive words of one, other outlets first, copies never."""

from __future__ import annotations

from storefill import Add

from broadsheet.dedupe import Action
from broadsheet.store import Store
from broadsheet.store.related import distinctive_terms
from newsroom import make_stories

SEALS = (
    "Wardens on Grimsholm counted {n} grey seal pups on the skerries this autumn, and the seal colony is "
    "now the largest on the coast. Boat trips past the colony will be limited until the pups are weaned. "
    "Story number {n} of the series."
)


def _background(add: Add) -> None:
    for i, story in enumerate(make_stories(8, seed=5)):
        add(story.title, story.text, outlet="Background Times", hours=i)


def test_related_prefers_other_outlets_and_keeps_at_most_two_from_the_same(store: Store, add: Add) -> None:
    _background(add)
    here = add("Grimsholm seal colony grows again", SEALS.format(n=412), hours=20)
    same = [add(f"Seal pups on Grimsholm, part {n}", SEALS.format(n=n), hours=10 + n) for n in (1, 2, 3)]
    others = [
        add("Grimsholm seal pups counted", SEALS.format(n=900), outlet="Quillon Post", hours=15),
        add("Seal colony on Grimsholm", SEALS.format(n=901), outlet="Veltra Voice", hours=16),
    ]
    related = store.reads.related(here, limit=6)
    assert {c.id for c in related[:2]} == set(others)
    assert len(related) == 4
    assert {c.id for c in related[2:]} <= set(same)
    assert here not in {c.id for c in related}
    assert all(c.outlet != "Background Times" for c in related)


def test_related_leaves_out_copies_and_what_an_article_is_a_copy_of(store: Store, add: Add) -> None:
    _background(add)
    text = SEALS.format(n=77)
    original = add("Grimsholm seal colony grows", text)
    copy = add("Seal colony grows", text, outlet="Wire Service", hours=1, expect=Action.COPY)
    cousin = add("Grimsholm seal pups counted", SEALS.format(n=78), outlet="Quillon Post", hours=2)
    assert [c.id for c in store.reads.related(original)] == [cousin]
    assert [c.id for c in store.reads.related(copy)] == [cousin]


def test_an_article_with_nothing_in_common_has_no_related(store: Store, add: Add) -> None:
    _background(add)
    lonely = add("Xylophone quartet zigzags", "Quirky xylophonists zigzagged through Zanzibar.")
    assert store.reads.related(lonely) == []


def test_distinctive_terms_skip_stopwords_numbers_and_short_words() -> None:
    terms = distinctive_terms(
        "The Seal Colony of Grimsholm in 2026", "seal pups pups at the colony and it is"
    )
    assert terms == ["seal", "colony", "grimsholm", "pups"]
