"""Stories across languages in the clusterer itself, with the real models: English stories still told apart
by the multilingual encoder, the same event in three languages one story, another event of the same kind
apart, a restored window that decides as the one it replaces, and language means that centre the vectors.

Every article here is invented (tests/storyset.py's multilingual coverage, and newsdesk's English reports).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from newsdesk import STORIES, MakeItems
from numpy.typing import NDArray

from broadsheet.cluster import ClusterItem, StoryClusterer, b_cubed, cluster_stream
from broadsheet.cluster.centring import LanguageMeans
from broadsheet.enrich.embed import E5_KIND, Embedder, embedding_text, load_embedder
from broadsheet.enrich.origin import reference_mean
from storyset import MULTILINGUAL_EXPECTED, multilingual_coverage

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"


@pytest.fixture(scope="module")
def e5() -> Embedder:
    return load_embedder(E5_KIND, MODEL_CACHE)


@pytest.fixture(scope="module")
def origin(e5: Embedder) -> NDArray[np.float32]:
    return reference_mean(e5, MODEL_CACHE)


@pytest.fixture(scope="module")
def coverage_items(e5: Embedder) -> list[ClusterItem]:
    minilm = load_embedder("minilm-int8", MODEL_CACHE)
    rows = multilingual_coverage()
    texts = [embedding_text(str(r["title"]), str(r["text"])) for r in rows]
    mono, multi = minilm.embed(texts), e5.embed(texts)
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


def test_english_stories_are_still_told_apart_by_the_multilingual_encoder(
    make_items: MakeItems, e5: Embedder, origin: NDArray[np.float32]
) -> None:
    items = make_items(STORIES)
    multi = e5.embed([embedding_text(r.title, r.text) for r in STORIES])
    with_multi = [
        replace(item, lang="en", multilingual=None if item.embedding is None else multi[i])
        for i, item in enumerate(items)
    ]
    result = cluster_stream(with_multi, language_origin=origin)
    predicted = [result.labels[item.id] for item in with_multi]
    assert b_cubed(predicted, [r.story for r in STORIES]).f1 == 1.0


def test_one_event_in_three_languages_is_one_story_and_another_event_is_not(
    coverage_items: list[ClusterItem], origin: NDArray[np.float32]
) -> None:
    labels = cluster_stream(coverage_items, language_origin=origin).labels
    keys = _keys()
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            assert (labels[i] == labels[j]) == (MULTILINGUAL_EXPECTED[a] == MULTILINGUAL_EXPECTED[b]), (a, b)


def test_a_restored_window_decides_as_the_one_it_replaces(
    coverage_items: list[ClusterItem], origin: NDArray[np.float32]
) -> None:
    whole = StoryClusterer(language_origin=origin)
    decided = [whole.add(item) for item in coverage_items]
    first = StoryClusterer(language_origin=origin)
    for item in coverage_items[:2]:
        first.add(item)
    restored = StoryClusterer(first_id=max(first.open_ids()) + 1, language_origin=origin)
    for item in coverage_items[:2]:
        story = first.story_of(item.id)
        assert story is not None
        restored.restore(item, story)
    again = [restored.add(item) for item in coverage_items[2:]]
    assert [(a.story_id, a.new) for a in again] == [(a.story_id, a.new) for a in decided[2:]]
    np.testing.assert_allclose([a.score for a in again], [a.score for a in decided[2:]], atol=1e-6)


def test_a_story_joined_across_languages_records_the_centred_cross_language_score(
    coverage_items: list[ClusterItem], origin: NDArray[np.float32]
) -> None:
    clusterer = StoryClusterer(language_origin=origin)
    english, portuguese = coverage_items[0], coverage_items[1]
    assert english.multilingual is not None and portuguese.multilingual is not None
    assert (english.lang, portuguese.lang) == ("en", "pt")
    clusterer.add(english)
    joined = clusterer.add(portuguese)
    assert not joined.new
    # Across languages the score is the (faded) cosine of the vectors centred on their languages' means.
    means = LanguageMeans(len(english.multilingual), clusterer.config.language_prior, origin)
    means.count_in("en", english.multilingual)
    means.count_in("pt", portuguese.multilingual)
    cosine = float(means.centre("pt", portuguese.multilingual) @ means.centre("en", english.multilingual))
    assert joined.score == pytest.approx(cosine * 0.5 ** (1 / 72), abs=1e-3)  # one hour of a 72-hour fade


def test_language_means_take_each_languages_common_direction_away() -> None:
    rng = np.random.default_rng(7)
    dim = 64
    accent = {"en": rng.normal(size=dim), "pt": rng.normal(size=dim)}
    events = [rng.normal(size=dim) for _ in range(400)]

    def text(event: int, lang: str) -> np.ndarray:
        vector = 2.0 * accent[lang] + events[event] + 0.1 * rng.normal(size=dim)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    means = LanguageMeans(dim, prior=20.0)
    # Enough articles that the window's own means outweigh the prior (ORIGIN_WEIGHT of them at the origin).
    window = [(lang, text(event, lang)) for event in range(400) for lang in ("en", "pt")]
    for lang, vector in window:
        means.count_in(lang, vector)
    same_event = (text(3, "en"), text(3, "pt"))
    same_language = (text(3, "en"), text(9, "en"))
    # Raw, the language dominates: two events in English are closer than one event in two languages.
    assert float(same_language[0] @ same_language[1]) > float(same_event[0] @ same_event[1])
    centred_event = float(means.centre("en", same_event[0]) @ means.centre("pt", same_event[1]))
    centred_language = float(means.centre("en", same_language[0]) @ means.centre("en", same_language[1]))
    assert centred_event > 0.7 > 0.3 > centred_language
    for lang, vector in window:  # counting everything out leaves an empty window that centres nothing
        means.count_out(lang, vector)
    assert not means.counts
    np.testing.assert_allclose(means.mean("en"), 0.0, atol=1e-12)
