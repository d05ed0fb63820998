"""The stories step through its Python API with the real models: two builders (as two processes would have)
taking turns on one database keep one set of stories between them; one event told in several languages is one
story."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from broadsheet.config import Settings
from broadsheet.enrich.embed import Vectors
from broadsheet.errors import StoriesBusyError
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from broadsheet.store.schema import leases
from storyset import EXPECTED, MULTILINGUAL_EXPECTED, coverage, multilingual_coverage

MODELS_DIR = Path(__file__).resolve().parents[1] / ".cache" / "models"


def test_a_builder_rebuilds_its_window_after_another_process_grouped_stories(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
    store = Store.open(settings.database)
    pipeline = Ingester(store, settings)
    server, importer = StoryBuilder(store, settings), StoryBuilder(store, settings)
    importer._embedder = server.embedder  # one model in memory for both
    rows = coverage()

    def arrive(part: list[dict[str, object]]) -> None:
        data = tmp_path / "part.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in part))
        import_jsonl(data, pipeline)

    arrive(rows[:4])
    assert server.run().articles == 4  # its window now holds these stories, in memory
    arrive(rows[4:7])
    assert importer.run().articles == 3  # another holder: new stories, new ids
    arrive(rows[7:])
    assert server.run().articles == len(rows) - 7  # must see what the other builder did

    by_url = {a.url.rsplit("/", 1)[1]: a.story_id for a in store.articles.iter_all()}
    for a in by_url:
        for b in by_url:
            assert (by_url[a] == by_url[b]) == (EXPECTED[a] == EXPECTED[b]), (a, b, by_url)
    store.close()


def test_a_builder_that_lost_its_lease_mid_run_stores_nothing_more(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
    store = Store.open(settings.database)
    data = tmp_path / "all.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    builder = StoryBuilder(store, settings, batch_size=4)

    def taken_over(done: int, _total: int) -> None:
        # After the first batch, another process takes the lease (this one had stalled past its time).
        with store.engine.begin() as conn:
            conn.execute(update(leases).values(holder="another host", generation=leases.c.generation + 1))

    with pytest.raises(StoriesBusyError, match="too slow to renew its lease"):
        builder.run(taken_over)
    assert sum(a.story_id is not None for a in store.articles.iter_all()) == 4  # the first batch only
    store.close()


class HashEmbedder:
    """Stands in for a model: each text's row is random, seeded by the text."""

    name = "hashes"
    dim = 8

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8])
            rows[i] = np.random.default_rng(seed).standard_normal(self.dim)
        normalised: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return normalised


def test_the_tally_says_how_long_the_run_spent_loading_models(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        home=tmp_path, models_dir=tmp_path / "models", crawl_in_server=False, stories_multilingual=False
    )
    store = Store.open(settings.database)
    pipeline = Ingester(store, settings)

    def load() -> HashEmbedder:
        time.sleep(0.3)
        return HashEmbedder()

    builder = StoryBuilder(store, settings, load_embedder=load)
    rows = coverage()
    _import(tmp_path, pipeline, rows[:4])
    first = builder.run()
    assert 0.3 <= first.load_seconds < 5
    assert f"embedded in {first.embed_seconds:.1f} s; models loaded in {first.load_seconds:.1f} s" in (
        first.summary()
    )
    _import(tmp_path, pipeline, rows[4:])
    second = builder.run()  # the model is loaded already
    assert second.articles == len(rows) - 4
    assert second.load_seconds == 0
    assert second.summary().endswith(f"embedded in {second.embed_seconds:.1f} s")
    store.close()


def _import(tmp_path: Path, pipeline: Ingester, rows: list[dict[str, object]]) -> None:
    data = tmp_path / "part.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    import_jsonl(data, pipeline)


def _stories(store: Store) -> dict[str, int]:
    return {a.url.rsplit("/", 1)[1]: a.story_id for a in store.articles.iter_all() if a.story_id is not None}


def test_one_event_told_in_three_languages_is_one_story_and_another_fire_is_another(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
    assert settings.stories_multilingual  # on by default
    store = Store.open(settings.database)
    _import(tmp_path, Ingester(store, settings), multilingual_coverage())
    tally = StoryBuilder(store, settings).run()
    assert tally.articles == len(MULTILINGUAL_EXPECTED)
    by_key = _stories(store)
    for a in by_key:
        for b in by_key:
            assert (by_key[a] == by_key[b]) == (MULTILINGUAL_EXPECTED[a] == MULTILINGUAL_EXPECTED[b]), by_key
    store.close()


def test_a_new_builder_on_the_same_database_changes_no_multilingual_decision(tmp_path: Path) -> None:
    rows = multilingual_coverage()
    decisions = []
    for run, parts in (("whole", [rows]), ("restarted", [rows[:2], rows[2:4], rows[4:]])):
        home = tmp_path / run
        settings = Settings(home=home, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
        store = Store.open(settings.database)
        pipeline = Ingester(store, settings)
        for part in parts:
            home.mkdir(exist_ok=True)
            _import(home, pipeline, part)
            StoryBuilder(
                store, settings
            ).run()  # a new process each time: the window is rebuilt from the store
        decisions.append(_stories(store))
        store.close()
    assert decisions[0] == decisions[1]


def test_the_multilingual_encoder_reads_a_headline_without_its_format_label(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False)  # type: ignore[call-arg]
    store = Store.open(settings.database)
    rows = [
        {"url": f"https://wire.example/live/{n}", "title": f"The Latest: {title}", "text": "",
         "published": f"2026-05-0{n}T10:00:00+00:00", "outlet": "Wire", "lang": "en"}
        for n, title in ((1, "Ferry strike halts crossings in Port Alder"), (2, "Quillon council backs stadium"))
    ]  # fmt: skip
    _import(tmp_path, Ingester(store, settings), rows)
    builder = StoryBuilder(store, settings)
    builder.run()
    e5 = builder.multilingual
    assert e5 is not None
    ids = sorted(a.id for a in store.articles.iter_all())
    stored = store.stories.vectors(ids, e5.name)
    plain = e5.embed(["Ferry strike halts crossings in Port Alder", "Quillon council backs stadium"])
    labelled = e5.embed([str(r["title"]) for r in rows])
    for i, article in enumerate(ids):
        assert float(stored[article] @ plain[i]) > 0.9999
        assert float(stored[article] @ labelled[i]) < 0.99
    store.close()
