"""The enrichment step through its Python API, with the real models, on invented coverage (storyset): what it
stores, that it does each article once, redoes what a new version or new content makes stale, survives one
article's failure, and leaves the vectors the stories step then reuses."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import pytest

import broadsheet.pipeline.enrich as enrich_step
from broadsheet.config import Settings
from broadsheet.enrich import TOPICS, Entity, EntityRecogniser, load_recogniser, split_sentences
from broadsheet.enrich.entities import DEFAULT_MODEL, LEAD_WORDS
from broadsheet.pipeline.assemble import build_steps
from broadsheet.pipeline.enrich import Enricher, EnrichModels
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from storyset import coverage

MODELS_DIR = Path(__file__).resolve().parents[1] / ".cache" / "models"


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Settings, Store]:
    settings = Settings(home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
    store = Store.open(settings.database)
    data = tmp_path / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    return settings, store


def test_every_article_gets_each_enrichment_and_every_citation_is_a_stored_sentence(
    loaded: tuple[Settings, Store],
) -> None:
    settings, store = loaded
    tally = Enricher(store, settings).run()
    articles = list(store.articles.iter_all())
    assert tally.articles == len(articles) == 9
    assert dict(tally.done) == {
        step: 9 for step in ("language", "keypoints", "entities", "topic", "kind", "tags")
    }
    assert not tally.failed
    views = store.enrichments.views({a.id: a.text for a in articles if a.id is not None})
    for article in articles:
        assert article.lang == "en"
        assert article.topic in TOPICS
        assert article.kind == "news"
        view = views[article.id or 0]
        assert 3 <= len(view.key_points) <= 5, article.title
        sentences = {s.index: s.text for s in split_sentences(article.text)}
        for point in view.key_points:
            for cited in point.citations:
                assert sentences[cited.sentence] == cited.text == point.text
        assert view.summary and all(sentences[c.sentence] == c.text for c in view.summary)
        assert view.tags
    bridge = next(a for a in articles if a.url.endswith("/bridge-1"))
    names = {e.name: e.type for e in views[bridge.id or 0].entities}
    assert names.get("Maribel Ostrander") == "person", names


def test_a_second_run_finds_nothing_to_do_and_the_stories_step_reuses_the_vectors(
    loaded: tuple[Settings, Store],
) -> None:
    settings, store = loaded
    steps = build_steps(settings, store)
    assert [s.name for s in steps] == ["enrich", "stories"]  # the briefs are built beside the crawl
    assert [s.name for s in build_steps(settings, store, briefs=True)] == ["enrich", "stories", "briefs"]
    steps[0].run()
    stories = steps[1].run()
    assert stories.articles == 9
    assert stories.embedded == 0  # enrichment stored every original's vector already
    assert steps[0].run().articles == 0


def test_a_new_version_of_one_step_redoes_only_that_step(
    loaded: tuple[Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = loaded
    Enricher(store, settings).run()
    monkeypatch.setattr(enrich_step, "KIND_VERSION", "2")
    tally = Enricher(store, settings).run()
    assert tally.articles == 9
    assert dict(tally.done) == {"kind": 9}


def test_only_and_since_redo_those_steps_on_those_articles(loaded: tuple[Settings, Store]) -> None:
    settings, store = loaded
    Enricher(store, settings).run()
    everything = Enricher(store, settings, only=["keypoints"], redo=True).run()
    assert dict(everything.done) == {"keypoints": 9}
    latest = max(a.published for a in store.articles.iter_all() if a.published)
    recent = Enricher(store, settings, since=latest, redo=True).run()
    assert recent.articles == 1
    assert set(recent.done) == {"language", "keypoints", "entities", "topic", "kind", "tags"}


def test_changed_content_is_enriched_again(loaded: tuple[Settings, Store]) -> None:
    settings, store = loaded
    Enricher(store, settings).run()
    article = next(a for a in store.articles.iter_all() if a.url.endswith("/orchard"))
    assert article.id is not None
    article.text += (
        "\n\nThe growers' cooperative said the harvest festival would go ahead on Saturday as planned."
    )
    article.content_hash = "changed"
    store.articles.replace_content(article.id, article, None, (), article.published)  # type: ignore[arg-type]
    tally = Enricher(store, settings).run()
    assert tally.articles == 1
    view = store.enrichments.view(article.id, article.text)
    assert view.key_points


def test_one_article_failing_a_step_is_recorded_and_the_rest_go_on(
    loaded: tuple[Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = loaded
    real = enrich_step.keyphrases

    def breaks_on_orchards(title: str, text: str, lang: str, limit: int = 8) -> list[str]:
        if "orchard" in title.lower():
            raise ValueError("an injected fault")
        return real(title, text, lang, limit)

    monkeypatch.setattr(enrich_step, "keyphrases", breaks_on_orchards)
    tally = Enricher(store, settings).run()
    assert tally.failed == {"tags": 1}
    assert tally.done["tags"] == 8
    assert "tags on article" in tally.errors[0] and "an injected fault" in tally.errors[0]
    # Recorded, not retried on every pass: the next run finds nothing to do.
    assert Enricher(store, settings).run().articles == 0


def test_stories_take_their_members_majority_topic(loaded: tuple[Settings, Store]) -> None:
    settings, store = loaded
    for step in build_steps(settings, store):
        step.run()
    articles = list(store.articles.iter_all())
    for story_id in {a.story_id for a in articles}:
        members = [a.topic for a in articles if a.story_id == story_id]
        assert story_id is not None
        story = store.stories.get(story_id, articles[0].published)  # type: ignore[arg-type]
        top = max(members.count(t) for t in set(members))
        assert members.count(story.topic) == top, (members, story.topic)


def test_one_enricher_picks_up_new_articles_and_on_its_next_full_scan_changed_ones(
    loaded: tuple[Settings, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = loaded
    enricher = Enricher(store, settings)
    assert enricher.run().articles == 9
    rows = coverage()[:1]
    rows[0] |= {"url": "https://late.example/news/late-1", "outlet": "Late Edition"}
    rows[0]["text"] = "A late edition reprinted the council statement in full. " + str(rows[0]["text"])
    extra = tmp_path / "late.jsonl"
    extra.write_text(json.dumps(rows[0]) + "\n")
    import_jsonl(extra, Ingester(store, settings))
    assert enricher.run().articles == 1  # a new article, above what it knows is done
    article = next(a for a in store.articles.iter_all() if a.url.endswith("/orchard"))
    assert article.id is not None
    article.text += "\n\nThe growers' cooperative said the festival would go ahead on Saturday."
    article.content_hash = "changed"
    store.articles.replace_content(article.id, article, None, (), article.published)  # type: ignore[arg-type]
    monkeypatch.setattr(enrich_step, "FULL_SCAN_SECONDS", 0.0)
    enricher._next_full_scan = 0.0  # as if its time had come
    assert enricher.run().articles == 1


class _FailsOnOrchards(EntityRecogniser):
    def entities(self, docs: Sequence[tuple[str, str, str]]) -> list[list[Entity]]:
        if any("orchard" in title.lower() for title, _, _ in docs):
            raise ValueError("an injected fault")
        return super().entities(docs)


class _ModelsWithAFaultyRecogniser(EnrichModels):
    @cached_property
    def recogniser(self) -> EntityRecogniser:
        real = load_recogniser()
        return _FailsOnOrchards(real.nlp, DEFAULT_MODEL, LEAD_WORDS)


def test_a_batch_the_recogniser_fails_on_in_the_background_is_retried_so_only_its_culprit_fails(
    loaded: tuple[Settings, Store],
) -> None:
    settings, store = loaded
    tally = Enricher(store, settings, _ModelsWithAFaultyRecogniser(settings)).run()
    assert tally.failed == {"entities": 1}
    assert tally.done["entities"] == 8 and tally.done["tags"] == 9 and tally.done["topic"] == 9
    assert "entities on article" in tally.errors[0] and "an injected fault" in tally.errors[0]


def test_the_seconds_reported_are_the_runs_own_wall_clock_time(loaded: tuple[Settings, Store]) -> None:
    settings, store = loaded
    enricher = Enricher(store, settings)
    enricher.versions()  # loads the models, which the reported seconds leave out
    started = time.perf_counter()
    tally = enricher.run()
    wall = time.perf_counter() - started
    # Steps run side by side: their seconds are counted once, not once per thread.
    assert 0 < sum(tally.seconds.values()) <= wall
    assert set(tally.seconds) == {"language", "keypoints", "entities", "topic", "kind", "tags"}
