"""The briefs step through its Python API, with the real MiniLM, on invented coverage (storyset): articles'
sentences embedded side by side (and, when the model allows, a story's articles in one call) give the very
vectors, and so the very briefs, that one call per article one at a time does; stored vectors are reused,
never made again; one story's failure is reported while the others are built; the crawler builds them beside
its passes, not in them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from broadsheet.config import Settings
from broadsheet.enrich import Embedder, load_embedder
from broadsheet.enrich.embed import Vectors
from broadsheet.pipeline.assemble import build_crawler
from broadsheet.pipeline.briefs import BRIEF_VERSION, MAX_MEMBERS, BriefBuilder
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from storyset import coverage

MODELS_DIR = Path(__file__).resolve().parents[1] / ".cache" / "models"


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """On two threads whatever the machine: the briefs step then makes two calls at a time."""
    return load_embedder("minilm-int8", MODELS_DIR, threads=2)


class Plain:
    """The model behind the bare Embedder protocol, which promises nothing about threads or batches: the
    briefs step then embeds each article's sentences in a call of their own, one call at a time."""

    def __init__(self, inner: Embedder) -> None:
        self.name, self.dim = inner.name, inner.dim
        self._inner = inner

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed(texts)


class Failing(Plain):
    """The model, except that any text mentioning `word` fails (as a model might on one article)."""

    def __init__(self, inner: Embedder, word: str) -> None:
        super().__init__(inner)
        self._word = word

    def embed(self, texts: Sequence[str]) -> Vectors:
        if any(self._word in text for text in texts):
            raise RuntimeError(f"cannot embed a text about {self._word}")
        return super().embed(texts)


def _grouped(home: Path, minilm: Embedder) -> Store:
    """A store holding the coverage, grouped into stories: the bridge and the strike are told by several
    outlets, the tunnel and the orchard by one."""
    settings = Settings(  # type: ignore[call-arg]
        home=home, models_dir=MODELS_DIR, crawl_in_server=False, stories_multilingual=False
    )
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    StoryBuilder(store, settings, minilm).run()
    return store


def _story(store: Store, key: str) -> int:
    article = next(a for a in store.articles.iter_all() if a.url.endswith(f"/{key}"))
    assert article.story_id is not None
    return article.story_id


def _made(store: Store, story_id: int, model: str) -> dict[int, np.ndarray]:
    _count, members = store.briefs.members(story_id, MAX_MEMBERS)
    return store.briefs.sentence_vectors(members, model)


@pytest.mark.parametrize("workers", [None, 2])
def test_sentences_embedded_side_by_side_or_together_give_the_vectors_and_briefs_of_one_call_each(
    tmp_path: Path, minilm: Embedder, workers: int | None
) -> None:
    apart, fast = _grouped(tmp_path / "apart", minilm), _grouped(tmp_path / "fast", minilm)
    one = BriefBuilder(apart, lambda: Plain(minilm)).run()
    # As the embedder allows: two calls at once and, when its vectors never depend on their batch, a story's
    # articles in one call; or forced side by side.
    two = BriefBuilder(fast, lambda: minilm, workers=workers).run()
    assert (one.articles, one.embedded, one.failed) == (two.articles, two.embedded, two.failed) == (2, 6, [])
    for key in ("bridge-1", "strike-1"):
        a, b = apart.briefs.get(_story(apart, key)), fast.briefs.get(_story(fast, key))
        assert a is not None and b is not None
        assert a.data == b.data and (a.data["agreed"] or a.data["only"])
        alone, made = _made(apart, a.story_id, minilm.name), _made(fast, b.story_id, minilm.name)
        assert len(alone) == 3  # the wire copy of bridge-1 has its original's sentences
        assert alone.keys() == made.keys()
        for article_id, rows in alone.items():
            assert np.array_equal(rows, made[article_id])
    apart.close()
    fast.close()


def test_a_brief_rebuilt_from_stored_vectors_embeds_nothing_and_is_the_same(
    tmp_path: Path, minilm: Embedder
) -> None:
    store = _grouped(tmp_path, minilm)
    builder = BriefBuilder(store, lambda: minilm)
    assert builder.run().embedded == 6
    story_id = _story(store, "bridge-1")
    first = store.briefs.get(story_id)
    assert first is not None
    store.briefs.save(story_id, first.article_count, "brief/0", first.data, first.built_at)  # made stale
    again = builder.run()
    assert (again.articles, again.embedded) == (1, 0)
    rebuilt = store.briefs.get(story_id)
    assert rebuilt is not None and rebuilt.version == BRIEF_VERSION and rebuilt.data == first.data
    assert builder.run().articles == 0  # nothing left to do
    store.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_one_storys_failure_is_reported_and_the_other_brief_is_built(
    tmp_path: Path, minilm: Embedder, workers: int
) -> None:
    store = _grouped(tmp_path, minilm)
    failing = Failing(minilm, "Skerrin")  # only the strike's articles name the islands
    tally = BriefBuilder(store, lambda: failing, workers=workers).run()
    strike, bridge = _story(store, "strike-1"), _story(store, "bridge-1")
    assert tally.articles == 1 and tally.embedded == 3
    assert len(tally.failed) == 1 and tally.failed[0].startswith(f"story {strike}: RuntimeError")
    assert store.briefs.get(bridge) is not None and store.briefs.get(strike) is None
    assert len(_made(store, bridge, minilm.name)) == 3 and not _made(store, strike, minilm.name)
    later = BriefBuilder(
        store, lambda: minilm, workers=workers
    ).run()  # the failed one waits for the next run
    assert (later.articles, later.embedded, later.failed) == (1, 3, [])
    assert store.briefs.get(strike) is not None
    store.close()


def test_the_crawler_builds_briefs_beside_its_passes_and_none_in_them(
    tmp_path: Path, minilm: Embedder
) -> None:
    store = _grouped(tmp_path, minilm)
    settings = Settings(  # type: ignore[call-arg]
        home=tmp_path, models_dir=MODELS_DIR, crawl_in_server=False, stories_multilingual=False
    )
    crawler = build_crawler(settings, store)
    assert "briefs" not in [step.name for step in crawler.steps]
    assert [step.name for step in crawler.background] == ["briefs"]
    assert store.briefs.stale_count(BRIEF_VERSION) == 2

    async def crawl_a_while() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(crawler.run_forever(stop, lambda _report: None))
        for _ in range(600):
            if store.briefs.stale_count(BRIEF_VERSION) == 0:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=30)

    asyncio.run(crawl_a_while())
    assert store.briefs.stale_count(BRIEF_VERSION) == 0
    for key in ("bridge-1", "strike-1"):
        brief = store.briefs.get(_story(store, key))
        assert (
            brief is not None
            and brief.version == BRIEF_VERSION
            and (brief.data["agreed"] or brief.data["only"])
        )
    store.close()
