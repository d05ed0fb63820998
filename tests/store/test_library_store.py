"""Each reader's library on SQLite and PostgreSQL: subscriptions to the site's sources set up once, folders,
read marks against each subscription's `read_upto`, mark-all-as-read by moving it, followed stories' coverage,
starred as bookmarked, and what goes with a reader or a source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from broadsheet.errors import NotFoundError
from broadsheet.models import Article, SourceKind
from broadsheet.store import EntryQuery, Store, Stream
from broadsheet.store.library import DEFAULT_FOLDER
from broadsheet.store.schema import articles, entry_states, stories, subscriptions

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
BACKLOG = NOW - timedelta(days=7)


class Site:
    """Two sources ("world": folder World; "misc": no folder), each with two old articles (20 days) and three
    recent ones (within five hours), stored in fetch order; readers ada and bob."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.world = store.sources.add("https://w.example/feed", SourceKind.FEED, now=NOW - 40 * 24 * HOUR,
                                       interval_seconds=900, title="World Wire", folder="World").id  # fmt: skip
        self.misc = store.sources.add("https://m.example/feed", SourceKind.FEED, now=NOW - 40 * 24 * HOUR,
                                      interval_seconds=900, title="Misc Times").id  # fmt: skip
        self.ids: dict[int, list[int]] = {self.world: [], self.misc: []}  # oldest first
        self.old: dict[int, list[int]] = {self.world: [], self.misc: []}
        n = 0
        for fetched, recent in [(NOW - 20 * 24 * HOUR, False), (NOW - 19 * 24 * HOUR, False),
                                (NOW - 5 * HOUR, True), (NOW - 3 * HOUR, True), (NOW - HOUR, True)]:  # fmt: skip
            for source in (self.world, self.misc):
                n += 1
                article = Article(url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
                                  title=f"Piece {n}", text="Words. " * 40, outlet="X", source_id=source,
                                  published=fetched - HOUR, content_hash=str(n))  # fmt: skip
                article_id = store.articles.insert(article, None, (), fetched)
                (self.ids if recent else self.old)[source].append(article_id)
        self.ada = store.accounts.add_user("ada", "", "reader", NOW).id
        self.bob = store.accounts.add_user("bob", "", "reader", NOW).id

    def unread(self, user: int, stream: Stream | None = None) -> set[int]:
        query = EntryQuery(stream or Stream(), read=False, limit=1000)
        return {i for i, _, _ in self.store.library.entry_ids(user, query)}

    @property
    def recent(self) -> set[int]:
        return {*self.ids[self.world], *self.ids[self.misc]}


@pytest.fixture
def site(store: Store) -> Site:
    return Site(store)


def test_a_library_is_set_up_once_with_every_source_and_the_backlog_read(site: Site) -> None:
    library = site.store.library
    assert library.ensure_library(site.ada, NOW, BACKLOG) is True
    assert library.ensure_library(site.ada, NOW, BACKLOG) is False  # once: later calls change nothing
    subs = library.subscriptions(site.ada)
    assert [(s.title, s.folder) for s in subs] == [("Misc Times", DEFAULT_FOLDER), ("World Wire", "World")]
    assert site.unread(site.ada) == site.recent  # the 20-day-old ones count as read
    assert site.store.accounts.user(site.ada).library_at == NOW  # type: ignore[union-attr]
    # Unsubscribing from everything stays so: the library is not made again.
    for sub in subs:
        assert library.unsubscribe(site.ada, sub.source_id)
    assert library.ensure_library(site.ada, NOW, BACKLOG) is False
    assert library.subscriptions(site.ada) == []
    assert site.unread(site.ada) == set()
    with pytest.raises(NotFoundError):
        library.ensure_library(10_000, NOW, BACKLOG)


def test_marks_override_the_subscription_and_belong_to_one_reader(site: Site) -> None:
    library = site.store.library
    for user in (site.ada, site.bob):
        library.ensure_library(user, NOW, BACKLOG)
    newest, old = site.ids[site.world][-1], site.old[site.world][0]
    assert library.mark(site.ada, [newest, old, 99_999], True, NOW) == 2  # unknown ids are skipped
    assert newest not in site.unread(site.ada) and newest in site.unread(site.bob)
    assert library.mark(site.ada, [old], False, NOW) == 1  # an old one, kept unread on purpose
    assert old in site.unread(site.ada)
    entry = library.entries_by_id(site.ada, [old, newest])
    assert [(e.id, e.read) for e in entry] == [(old, False), (newest, True)]
    counts = library.unread_counts(site.ada)
    assert counts[site.world][0] == 3  # three recent, one of them read, and the old one marked unread
    assert counts[site.misc] == (3, NOW - HOUR)


def test_mark_all_read_moves_the_line_and_flips_explicit_unread_marks_in_its_scope(site: Site) -> None:
    library, store = site.store.library, site.store
    library.ensure_library(site.ada, NOW, BACKLOG)
    old = site.old[site.misc][0]
    library.mark(site.ada, [old], False, NOW)
    # Only the World feed, only what was fetched before two hours ago.
    library.mark_all_read(site.ada, Stream("feed", site.world), NOW, before=NOW - 2 * HOUR)
    assert site.unread(site.ada, Stream("feed", site.world)) == {site.ids[site.world][-1]}
    assert old in site.unread(site.ada)  # another feed's mark is untouched
    # A folder: the reader's default one holds Misc Times.
    misc_folder = library.folder_named(site.ada, DEFAULT_FOLDER)
    assert misc_folder is not None
    library.mark_all_read(site.ada, Stream("folder", misc_folder.id), NOW)
    assert site.unread(site.ada, Stream("folder", misc_folder.id)) == set()
    assert old not in site.unread(site.ada)
    # Everything, with a few statements whatever the number: no row per entry.
    library.mark_all_read(site.ada, Stream(), NOW)
    assert site.unread(site.ada) == set()
    with store.engine.connect() as conn:
        marks = conn.execute(select(func.count()).select_from(entry_states)).scalar()
    assert marks == 1  # the one explicit mark, turned to read
    # New articles after that are unread.
    article = Article(url="https://x.example/new", canonical_url="https://x.example/new", title="New",
                      text="Words. " * 40, source_id=site.world, content_hash="new")  # fmt: skip
    new_id = store.articles.insert(article, None, (), NOW)
    assert site.unread(site.ada) == {new_id}


def test_streams_order_continuation_and_time_windows(site: Site) -> None:
    library = site.store.library
    library.ensure_library(site.ada, NOW, BACKLOG)
    everything = sorted(site.recent | {*site.old[site.world], *site.old[site.misc]}, reverse=True)
    first = library.entry_ids(site.ada, EntryQuery(limit=4))
    assert [i for i, _, _ in first] == everything[:4]
    rest = library.entry_ids(site.ada, EntryQuery(limit=100, after_id=first[-1][0]))
    assert [i for i, _, _ in rest] == everything[4:]
    oldest = library.entry_ids(site.ada, EntryQuery(limit=2, newest_first=False))
    assert [i for i, _, _ in oldest] == sorted(everything)[:2]
    window = library.entry_ids(site.ada, EntryQuery(since=NOW - 4 * HOUR, until=NOW - 2 * HOUR))
    assert {i for i, _, _ in window} == {site.ids[site.world][1], site.ids[site.misc][1]}
    read = library.entry_ids(site.ada, EntryQuery(read=True, limit=100))
    assert {i for i, _, _ in read} == {*site.old[site.world], *site.old[site.misc]}
    fever = library.entry_ids(site.ada, EntryQuery(min_id=everything[3], newest_first=False))
    assert [i for i, _, _ in fever] == sorted(everything[:3])
    with pytest.raises(ValueError, match="limit"):
        library.entries(site.ada, EntryQuery(limit=0))


def test_starred_is_bookmarked_and_a_followed_story_is_a_folder_of_its_coverage(site: Site) -> None:
    library, store = site.store.library, site.store
    library.ensure_library(site.ada, NOW, BACKLOG)
    library.unsubscribe(site.ada, site.misc)
    starred = site.ids[site.misc][0]  # not a subscribed source's: starred still shows it
    store.follows.bookmark(site.ada, starred, NOW)
    found = library.entries(site.ada, EntryQuery(Stream("starred")))
    assert [(e.id, e.starred, e.read) for e in found] == [(starred, True, False)]
    assert library.entries(site.ada, EntryQuery(starred=False, limit=100))
    # A story across both sources: its coverage is a folder; the unsubscribed source's piece starts unread.
    with store.engine.begin() as conn:
        story_id = conn.execute(stories.insert().values(title="The bridge", first_seen=NOW, last_seen=NOW)
                                .returning(stories.c.id)).scalar_one()  # fmt: skip
        members = [site.ids[site.world][0], site.ids[site.misc][1]]
        conn.execute(update(articles).where(articles.c.id.in_(members)).values(story_id=story_id))
    library.sync_story_folders(site.ada, {story_id: "Story: The bridge"}, NOW)
    folder = library.folder_named(site.ada, "Story: The bridge")
    assert folder is not None and folder.story_id == story_id
    assert site.unread(site.ada, Stream("story", story_id)) == set(members)
    assert library.story_unread(site.ada, [story_id]) == {story_id: (2, NOW - 3 * HOUR)}
    library.mark_all_read(site.ada, Stream("story", story_id), NOW)
    assert site.unread(site.ada, Stream("story", story_id)) == set()
    # Renamed when its name changes; a name another folder has gets the id; gone when no longer followed.
    library.sync_story_folders(site.ada, {story_id: "World"}, NOW)
    assert library.folder_named(site.ada, f"World ({story_id})") is not None
    library.sync_story_folders(site.ada, {}, NOW)
    assert [f.name for f in library.folders(site.ada)] == [DEFAULT_FOLDER, "World"]


def test_folders_subscriptions_and_what_goes_with_a_reader_or_a_source(site: Site) -> None:
    library, store = site.store.library, site.store
    library.ensure_library(site.ada, NOW, BACKLOG)
    news = library.add_folder(site.ada, " News ", NOW)
    assert library.add_folder(site.ada, "News", NOW) == news  # one per name
    assert library.edit_subscription(site.ada, site.misc, title="Misc", folder_id=news)
    sub = library.subscriptions(site.ada, site.misc)[0]
    assert (sub.title, sub.folder) == ("Misc", "News")
    with pytest.raises(ValueError, match="already"):
        library.rename_folder(site.ada, news, "World")
    with pytest.raises(ValueError, match="name"):
        library.add_folder(site.ada, "  ", NOW)
    library.rename_folder(site.ada, news, "Daily")
    assert library.remove_folder(site.ada, news)
    assert library.subscriptions(site.ada, site.misc)[0].folder == ""  # kept, in no folder
    assert not library.subscribe(site.ada, site.misc, NOW, backlog_before=BACKLOG)  # subscribed already
    with pytest.raises(NotFoundError):
        library.subscribe(site.ada, 10_000, NOW, backlog_before=BACKLOG)
    library.mark(site.ada, [site.ids[site.world][0]], True, NOW)
    store.sources.remove(site.world)  # its subscriptions go with it
    assert [s.source_id for s in library.subscriptions(site.ada)] == [site.misc]
    library.forget(site.ada)
    with store.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(subscriptions)).scalar()
    assert left == 0 and library.folders(site.ada) == []
    assert store.accounts.user(site.ada).library_at is None  # type: ignore[union-attr]


def test_the_default_folder_stream_covers_the_feeds_in_no_folder_too(site: Site) -> None:
    library = site.store.library
    library.ensure_library(site.ada, NOW, BACKLOG)
    default = library.folder_named(site.ada, DEFAULT_FOLDER)
    world = library.folder_named(site.ada, "World")
    assert default is not None and world is not None
    library.remove_folder(site.ada, world.id)  # World Wire's subscription is now in no folder
    both = set(site.ids[site.world]) | set(site.ids[site.misc])
    assert site.unread(site.ada, Stream("default", default.id)) == both
    assert site.unread(site.ada, Stream("folder", default.id)) == set(site.ids[site.misc])
    assert library.count(site.ada, EntryQuery(Stream("default", default.id), read=False)) == len(both)
    library.mark_all_read(site.ada, Stream("default", default.id), NOW)
    assert site.unread(site.ada) == set()
