"""Stories across languages in the clusterer itself, with the real models: English judged as before, the
same event in three languages one story, another event of the same kind apart, and a restored window that
decides as the one it replaces.

Every article here is invented (tests/storyset.py's multilingual coverage, and newsdesk's English reports).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from newsdesk import STORIES, MakeItems

from broadsheet.cluster import ClusterItem, StoryClusterer, cluster_stream
from broadsheet.enrich.embed import USE_KIND, Embedder, embedding_text, load_embedder
from storyset import MULTILINGUAL_EXPECTED, multilingual_coverage

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"


@pytest.fixture(scope="module")
def use() -> Embedder:
    return load_embedder(USE_KIND, MODEL_CACHE)


@pytest.fixture(scope="module")
def coverage_items(use: Embedder) -> list[ClusterItem]:
    minilm = load_embedder("minilm-int8", MODEL_CACHE)
    rows = multilingual_coverage()
    texts = [embedding_text(str(r["title"]), str(r["text"])) for r in rows]
    mono, multi = minilm.embed(texts), use.embed(texts)
    return [
        ClusterItem(
            id=i,
            published=datetime.fromisoformat(str(r["published"])),
            title=str(r["title"]),
            embedding=mono[i],
            text=str(r["text"]),
            outlet=str(r["outlet"]),
            lang=str(r["lang"]),
            multilingual=multi[i],
        )
        for i, r in enumerate(rows)
    ]


def _keys() -> list[str]:
    return [str(r["url"]).rsplit("/", 1)[1] for r in multilingual_coverage()]


def test_english_stories_are_decided_as_without_the_multilingual_vectors(
    make_items: MakeItems, use: Embedder
) -> None:
    items = make_items(STORIES)
    texts = [embedding_text(r.title, r.text) for r in STORIES]
    multi = use.embed(texts)
    with_multi = [
        replace(item, lang="en", multilingual=None if item.embedding is None else multi[i])
        for i, item in enumerate(items)
    ]
    assert cluster_stream(with_multi).labels == cluster_stream(items).labels


def test_one_event_in_three_languages_is_one_story_and_another_event_is_not(
    coverage_items: list[ClusterItem],
) -> None:
    labels = cluster_stream(coverage_items).labels
    keys = _keys()
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            assert (labels[i] == labels[j]) == (MULTILINGUAL_EXPECTED[a] == MULTILINGUAL_EXPECTED[b]), (a, b)


def test_a_restored_window_decides_as_the_one_it_replaces(coverage_items: list[ClusterItem]) -> None:
    whole = StoryClusterer()
    decided = [whole.add(item) for item in coverage_items]
    first = StoryClusterer()
    for item in coverage_items[:2]:
        first.add(item)
    restored = StoryClusterer(first_id=max(first.open_ids()) + 1)
    for item in coverage_items[:2]:
        story = first.story_of(item.id)
        assert story is not None
        restored.restore(item, story)
    again = [restored.add(item) for item in coverage_items[2:]]
    assert [(a.story_id, a.new) for a in again] == [(a.story_id, a.new) for a in decided[2:]]
    np.testing.assert_allclose([a.score for a in again], [a.score for a in decided[2:]], atol=1e-6)


def test_a_story_joined_across_languages_records_the_cross_language_score(
    coverage_items: list[ClusterItem],
) -> None:
    clusterer = StoryClusterer()
    english, portuguese = coverage_items[0], coverage_items[1]
    clusterer.add(english)
    joined = clusterer.add(portuguese)
    assert not joined.new
    # Across languages the score is the (faded) multilingual cosine alone.
    assert english.multilingual is not None and portuguese.multilingual is not None
    cosine = float(english.multilingual @ portuguese.multilingual)
    assert joined.score == pytest.approx(cosine * 0.5 ** (1 / 72), abs=1e-3)  # one hour of a 72-hour fade
