"""The `site` fixture: a real broadsheet web server on loopback over a SQLite file filled by `broadsheet import`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from website import ADMIN_PASSWORD, MODELS_DIR, Site, records, running

from broadsheet.config import Settings
from broadsheet.pipeline.assemble import build_steps
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.web import create_app


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("webhome")
    settings = Settings(
        home=home, admin_password=ADMIN_PASSWORD, crawl_in_server=False, page_size=10, models_dir=MODELS_DIR
    )
    store = Store.open(settings.database)
    data = home / "articles.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in records()) + "\n")
    import_jsonl(data, Ingester(store, settings))
    for step in build_steps(settings, store):  # enrichment, stories, briefs: as after an import
        step.run()

    with running(create_app(settings, store=store)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Site(url, home, store, client)
