"""A site with readers for the accounts and comments tests: a real server on loopback over a few invented
articles, and readers that sign up, sign in and post through the real forms and API, as a browser and a script
would."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from website import ADMIN_PASSWORD, MODELS_DIR, running

from broadsheet.config import Settings
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from broadsheet.web import create_app

__all__ = ["PASSWORD", "Forum", "csrf_of", "forum_site"]

PASSWORD = "a long enough secret"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no form with a CSRF token on this page"
    return found.group(1)


def _articles() -> list[dict[str, object]]:
    topics = ["harbour crane", "orchard frost", "library roof", "tram timetable"]
    return [
        {"url": f"https://gazette.example/news/{i}", "title": f"The {topic} question ({i})",
         "text": f"The {topic} was discussed at length by the council on Tuesday. " * 12,
         "published": f"2026-11-0{i + 1}T08:00:00+00:00", "outlet": "The Alder Gazette", "lang": "en"}
        for i, topic in enumerate(topics)
    ]  # fmt: skip


@dataclass
class Forum:
    url: str
    store: Store
    settings: Settings
    app: object
    article_ids: list[int]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        """A new browser: its own cookies, Origin set as the site's pages would send it."""
        client = httpx.Client(base_url=self.url, timeout=10, headers={"Origin": self.url})
        self.clients.append(client)
        return client

    def signup(self, name: str, password: str = PASSWORD, display_name: str = "") -> httpx.Client:
        client = self.client()
        token = csrf_of(client.get("/signup").text)
        answer = client.post("/signup", data={"csrf": token, "name": name, "password": password,
                                               "display_name": display_name, "next": "/"})  # fmt: skip
        assert answer.status_code == 303, answer.text
        return client

    def signin(self, name: str, password: str = PASSWORD) -> httpx.Response:
        client = self.client()
        token = csrf_of(client.get("/signin").text)
        return client.post("/signin", data={"csrf": token, "name": name, "password": password, "next": "/"})

    def token_for(self, browser: httpx.Client, label: str = "script") -> str:
        """A personal API token made on the account page, as a reader would."""
        page = browser.get("/account")
        answer = browser.post("/account/tokens", data={"csrf": csrf_of(page.text), "label": label})
        assert answer.status_code == 200, answer.text
        found = re.search(r'<code class="new-token">([^<]+)</code>', answer.text)
        assert found
        return found.group(1)

    def api(self, token: str = "") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, timeout=10, headers=headers)
        self.clients.append(client)
        return client


@contextmanager
def forum_site(
    home: Path, database_url: str, *, stories: bool = False, **overrides: object
) -> Iterator[Forum]:
    """The site over the invented articles; with `stories`, grouped into stories too (the real model)."""
    settings = Settings(
        home=home,
        database_url=database_url,
        admin_password=ADMIN_PASSWORD,
        crawl_in_server=False,
        models_dir=MODELS_DIR,
        logins_per_minute=6000,  # the tests sign in often from one address; the limit has a test of its own
        comments_per_minute=6000,
        **overrides,  # type: ignore[arg-type]
    )
    store = Store.open(settings.database)
    forum: Forum | None = None
    try:
        data = home / "articles.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in _articles()))
        import_jsonl(data, Ingester(store, settings))
        if stories:
            StoryBuilder(store, settings).run()
        ids = sorted(a.id for a in store.articles.iter_all() if a.id is not None)
        app = create_app(settings, store=store)
        with running(app) as url:
            forum = Forum(url, store, settings, app, ids)
            yield forum
    finally:
        for client in forum.clients if forum else []:
            client.close()
        store.close()
