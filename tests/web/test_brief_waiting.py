"""A story's brief is built beside the crawl, seconds after the story is grouped: until then its page and the API
say it is coming (for a story several outlets tell), and say nothing of one for a story one outlet tells. A real
server over a SQLite store filled by import and the real stories step (MiniLM) on invented coverage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from website import MODELS_DIR, running

from broadsheet.config import Settings
from broadsheet.enrich import load_embedder
from broadsheet.pipeline.briefs import BriefBuilder
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from broadsheet.web import create_app
from storyset import coverage

WAITING = "Being built from the coverage of its"


@dataclass
class Site:
    store: Store
    client: httpx.Client


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = Settings(  # type: ignore[call-arg]
        home=tmp_path,
        models_dir=MODELS_DIR,
        crawl_in_server=False,
        stories_multilingual=False,
        page_cache_mb=0,  # each request renders: the page must change as soon as the brief is stored
    )
    store = Store.open(settings.database)
    data = tmp_path / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    StoryBuilder(store, settings, load_embedder("minilm-int8", MODELS_DIR)).run()
    with running(create_app(settings, store=store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Site(store, client)
    store.close()


def _story(store: Store, key: str) -> int:
    article = next(a for a in store.articles.iter_all() if a.url.endswith(f"/{key}"))
    assert article.story_id is not None
    return article.story_id


def test_a_story_page_says_its_brief_is_coming_until_it_is_built(site: Site) -> None:
    bridge, tunnel = _story(site.store, "bridge-1"), _story(site.store, "tunnel")
    now = datetime.now(UTC)
    outlets = site.store.stories.get(bridge, now).outlet_count
    assert outlets >= 3 and site.store.stories.get(tunnel, now).outlet_count == 1

    waiting = site.client.get(f"/stories/{bridge}").text
    assert "The story in brief" in waiting and f"{WAITING} {outlets} outlets" in waiting
    api = site.client.get(f"/api/v1/stories/{bridge}/brief").json()
    assert api["built_at"] is None and api["waiting"] is True
    alone = site.client.get(f"/stories/{tunnel}").text
    assert "The story in brief" not in alone  # one outlet: nothing to compare, no brief to wait for
    assert site.client.get(f"/api/v1/stories/{tunnel}/brief").json()["waiting"] is False

    BriefBuilder(site.store, lambda: load_embedder("minilm-int8", MODELS_DIR)).run()
    built = site.client.get(f"/stories/{bridge}").text
    assert WAITING not in built and "What the coverage agrees on" in built
    api = site.client.get(f"/api/v1/stories/{bridge}/brief").json()
    assert api["built_at"] is not None and api["waiting"] is False
