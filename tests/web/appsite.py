"""A site for the reader-app API tests: a real server on loopback over three invented sources and their
articles, two readers with app passwords, and the clock held still.

- "quillon" (Quillon Daily, the site's folder "World"): five recent articles and two a month old.
- "marrowby" (Marrowby Herald, folder "World"): five recent articles.
- "alder" (The Alder Gazette, no folder: the reader's "All"): five recent articles.
Recent means fetched within the last five hours; a month old is past the 7-day backlog, so already read.
The readers are "ada" and "bo"; each has an app password, and nothing else is set up: their libraries are made
by the first API call, as for a real reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from website import running

from broadsheet.config import Settings
from broadsheet.models import Article, SourceKind
from broadsheet.readers.passwords import hash_password
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.web.apps.common import make_app_password

__all__ = ["NOW", "SOURCES", "AppSite", "app_site"]

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
# key: (feed url, title, site folder, recent articles, month-old articles)
SOURCES = {
    "quillon": ("https://quillon.example/feed.xml", "Quillon Daily", "World", 5, 2),
    "marrowby": ("https://marrowby.example/rss", "Marrowby Herald", "World", 5, 0),
    "alder": ("https://alder.example/atom.xml", "The Alder Gazette", "", 5, 0),
}
TOPICS = [
    "harbour crane",
    "orchard frost",
    "library roof",
    "tram timetable",
    "river lock",
    "bell tower",
    "ferry",
]


@dataclass
class AppSite:
    url: str
    store: Store
    settings: Settings
    app: object
    passwords: dict[str, str]  # reader name -> an app password
    sources: dict[str, int]  # source key -> source id
    recent: dict[str, list[int]]  # source key -> its recent article ids, newest first
    old: dict[str, list[int]]  # source key -> its month-old article ids

    def user_id(self, name: str) -> int:
        user = self.store.accounts.user_by_name(name)
        assert user is not None
        return user.id

    @property
    def all_recent(self) -> set[int]:
        return {i for ids in self.recent.values() for i in ids}


def _article(key: str, outlet: str, n: int, published: datetime, source_id: int) -> Article:
    topic = TOPICS[n % len(TOPICS)]
    host = SOURCES[key][0].split("/")[2]
    return Article(
        url=f"https://{host}/news/{n}",
        canonical_url=f"https://{host}/news/{n}",
        title=f"{outlet}: the {topic} question ({n})",
        text=f"The {topic} was discussed by the council of {outlet} on Tuesday. " * 8,
        html=f"<p>The {topic} was discussed by the council of {outlet} on Tuesday.</p>",
        outlet=outlet,
        author=f"Reporter {n}",
        lang="en",
        published=published,
        source_id=source_id,
        content_hash=f"{key}-{n}",
    )


def fill(
    store: Store, now: datetime = NOW
) -> tuple[dict[str, int], dict[str, list[int]], dict[str, list[int]]]:
    """The three sources and their articles, fetched at their own times (old ones first)."""
    sources: dict[str, int] = {}
    recent: dict[str, list[int]] = {}
    old: dict[str, list[int]] = {}
    for key, (url, title, folder, _, _) in SOURCES.items():
        source = store.sources.add(url, SourceKind.FEED, now=now - timedelta(days=60), interval_seconds=1800,
                                   title=title, site_url=f"https://{url.split('/')[2]}/", folder=folder)  # fmt: skip
        sources[key] = source.id
        recent[key], old[key] = [], []
    for key, (_, title, _, _, aged) in SOURCES.items():
        for n in range(aged):
            fetched = now - timedelta(days=30, hours=aged - n)
            old[key].append(
                store.articles.insert(_article(key, title, 100 + n, fetched, sources[key]), None, (), fetched)
            )
    for hour in range(5, 0, -1):  # oldest first, sources interleaved, as a crawl stores them
        for key, (_, title, _, count, _) in SOURCES.items():
            if hour <= count:
                fetched = now - timedelta(hours=hour)
                article = _article(key, title, hour, fetched - timedelta(minutes=10), sources[key])
                recent[key].insert(0, store.articles.insert(article, None, (), fetched))
    return sources, recent, old


@contextmanager
def app_site(home: Path, database_url: str, **settings: object) -> Iterator[AppSite]:
    config = Settings(home=home, database_url=database_url, crawl_in_server=False, **settings)  # type: ignore[arg-type]
    store = Store.open(config.database)
    try:
        sources, recent, old = fill(store)
        passwords: dict[str, str] = {}
        for name in ("ada", "bo"):
            user = store.accounts.add_user(name, hash_password("a long enough secret"), "reader", NOW)
            passwords[name] = make_app_password(store, user, "tests", NOW)
        app = create_app(config, store=store)
        app.state.context.clock = lambda: NOW
        with running(app) as url:
            yield AppSite(url, store, config, app, passwords, sources, recent, old)
    finally:
        store.close()
