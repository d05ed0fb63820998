"""The `site` fixture: a real broadsheet web server on loopback over a database filled by `broadsheet import`, on\nSQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from chromium import launched
from website import ADMIN_PASSWORD, MODELS_DIR, Site, records, running

from broadsheet.config import Settings
from broadsheet.pipeline.assemble import build_steps
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.web import create_app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The reader over the same imported articles on each back end in turn: a SQLite file in the home, then a
    PostgreSQL database (dropped at the end)."""
    if request.param == "sqlite":
        yield from _site(tmp_path_factory, "")
        return
    cluster = request.getfixturevalue("postgres")
    url = cluster.database()
    try:
        yield from _site(tmp_path_factory, url)
    finally:
        cluster.drop(url)


def _site(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("webhome")
    settings = Settings(
        home=home,
        database_url=database_url,
        admin_password=ADMIN_PASSWORD,
        crawl_in_server=False,
        page_size=10,
        models_dir=MODELS_DIR,
    )
    store = Store.open(settings.database)
    try:
        data = home / "articles.jsonl"
        data.write_text("\n".join(json.dumps(r) for r in records()) + "\n")
        import_jsonl(data, Ingester(store, settings))
        for step in build_steps(
            settings, store, briefs=True
        ):  # enrichment, stories, briefs: as `import --briefs`
            step.run()

        with (
            running(create_app(settings, store=store)) as url,
            httpx.Client(base_url=url, timeout=10) as client,
        ):
            yield Site(url, home, store, client)
    finally:
        store.close()


@pytest.fixture
def on_each_backend(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """For modules whose tests build their own settings: each test once on SQLite (the home's file, the default)
    and once on a PostgreSQL database of its own (BROADSHEET_DATABASE_URL, which every Settings reads)."""
    monkeypatch.delenv("BROADSHEET_DATABASE_URL", raising=False)
    if not database_url.startswith("sqlite"):
        monkeypatch.setenv("BROADSHEET_DATABASE_URL", database_url)
    return database_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """For modules whose tests share one site built once per module: its `database_url` setting on each back end
    in turn, "" (the home's SQLite file) and then a PostgreSQL database of its own (dropped after the module)."""
    if request.param == "sqlite":
        yield ""
        return
    cluster = request.getfixturevalue("postgres")
    url = cluster.database()
    try:
        yield url
    finally:
        cluster.drop(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium for one test module (tests/web/chromium.py); skipped where it is not installed."""
    yield from launched()
