"""`broadsheet copy --to URL`: a SQLite home filled by a real crawl and import (with enrichment, stories and
briefs) copied into PostgreSQL, checked table by table, exported and searched the same on both sides; a copy
killed with SIGKILL resumes without a row twice; bad targets are refused with a clear message."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clirun import CliResult
from sqlalchemy import Engine, create_engine, func, inspect, select, text, update

from broadsheet.store import Store, search, table_digest
from broadsheet.store.copy import COPIED_TABLES
from broadsheet.store.schema import articles, stories, story_events
from newsroom import article_page, make_stories, rss
from postgres import PostgresCluster
from publisher import Publisher

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
T0 = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # after the crawled pages (make_stories)

# Invented coverage: three events each told by three outlets (stories with briefs), a wire copy carried word
# for word by a fourth outlet (a duplicate), and one piece alone.
EVENTS = {
    "reservoir": [
        "The Brackwater reservoir dropped to its lowest level in forty years on Tuesday, and the Brackwater "
        "water board ordered a ban on garden hoses from Friday. Board chair Imogen Thackery said the dry "
        "summer had left the reservoir at a third of its capacity. Farmers near the valley have asked for "
        "help with irrigation. The ban will last until the reservoir refills above half.",
        "A hosepipe ban starts in Brackwater on Friday after the reservoir fell to a forty-year low. The water "
        "board said levels stood at a third of capacity after months without rain. Imogen Thackery, who chairs "
        "the board, asked residents to save water wherever they could. Valley farmers warn of lost crops.",
        "Brackwater residents may not water gardens with hoses from Friday. The Brackwater water board imposed "
        "the ban as the reservoir shrank to a third of capacity, its lowest level in forty years. Chair Imogen "
        "Thackery said the board would review the ban each month. The fire service has been told to expect "
        "more grass fires in the valley.",
    ],
    "observatory": [
        "The Kestrel Hill observatory reopened to visitors on Saturday after a two-year restoration of its "
        "copper dome. Director Lucan Abernethy said the telescope had been cleaned and realigned by volunteers. "
        "Evening viewings of Saturn will run every clear Friday through the winter.",
        "After two years behind scaffolding, the copper dome of the Kestrel Hill observatory shines again. The "
        "observatory welcomed its first visitors on Saturday, and director Lucan Abernethy thanked the "
        "volunteers who realigned the old telescope. Friday night viewings of Saturn begin next week.",
        "Kestrel Hill observatory is open again. Its restored copper dome was unveiled on Saturday, two years "
        "after repairs began, and director Lucan Abernethy promised clear-night viewings of Saturn on Fridays "
        "all winter. Volunteers spent months cleaning and realigning the telescope.",
    ],
    "marathon": [
        "Runner Saskia Pellow won the Fennick marathon on Sunday in a course record of two hours and eleven "
        "minutes, beating last year's winner by four minutes. More than six thousand runners crossed the "
        "finish line on the Fennick promenade, where crowds stood six deep.",
        "A course record fell at the Fennick marathon on Sunday as Saskia Pellow crossed the promenade finish "
        "line in two hours and eleven minutes. The winner said the cool sea air helped. Over six thousand "
        "runners took part, a record field for the race.",
        "Saskia Pellow ran the Fennick marathon in two hours eleven minutes on Sunday, a course record and four "
        "minutes faster than the previous winner. Crowds lined the Fennick promenade for the finish, and race "
        "organisers counted more than six thousand finishers.",
    ],
}
TITLES = {
    "reservoir": ["Hosepipe ban as Brackwater reservoir hits 40-year low", "Brackwater bans hosepipes",
                  "Reservoir at a third of capacity: Brackwater hose ban from Friday"],
    "observatory": ["Kestrel Hill observatory reopens after dome restoration", "Copper dome shines again",
                    "Observatory open again, Saturn viewings on Fridays"],
    "marathon": ["Pellow sets Fennick marathon course record", "Record falls in Fennick marathon",
                 "Pellow wins Fennick marathon in 2:11"],
}  # fmt: skip
OUTLETS = ["The Valley Courier", "Harbour Evening Post", "The Northern Ledger"]
ALONE = (
    "The Ottery Lane allotments held their first pumpkin weigh-in since the allotments were saved from "
    "redevelopment. Gardener Wilf Arkwright's pumpkin weighed ninety-one kilograms and took the trophy home."
)


def _coverage() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for day, (event, texts) in enumerate(EVENTS.items()):
        for i, (outlet, body) in enumerate(zip(OUTLETS, texts, strict=True)):
            rows.append(
                {
                    "url": f"https://{outlet.split()[-2].lower()}.example/{event}-{i}",
                    "title": TITLES[event][i],
                    "text": body,
                    "published": (T0 + timedelta(days=day, hours=i)).isoformat(),
                    "outlet": outlet,
                    "author": f"Reporter {chr(65 + i)}",
                    "lang": "en",
                    "tags": [event.title(), "Local"],
                }
            )
    wire = dict(rows[0], url="https://wire.example/reservoir", outlet="Wire Desk")
    wire["published"] = (T0 + timedelta(hours=4)).isoformat()
    alone = {"url": "https://courier.example/pumpkins", "title": "Ninety-one kilogram pumpkin wins",
             "text": ALONE, "published": (T0 + timedelta(days=4)).isoformat(), "outlet": "The Valley Courier"}  # fmt: skip
    return [*rows, wire, alone]


def _fill(cli: Cli, home: Path, publisher: Publisher) -> None:
    """Something in every table of `home`: a crawled source (pages with icons), imported coverage enriched and
    grouped into stories with briefs, an admin job, a rewrite, a merged story, and a reader's comments, follows,
    bookmark, reading history and reader-app library, and a WebSub subscription with a push waiting."""
    pages = make_stories(3, seed=5)
    for page in pages:
        publisher.add(f"/news/{page.slug}", article_page(page, publisher.base_url))
    publisher.add("/feed.xml", rss(pages, publisher.base_url), content_type="application/rss+xml")
    assert cli("--home", str(home), "source", "add", publisher.url("/feed.xml")).code == 0
    assert "3 new articles" in cli("--home", str(home), "crawl", "--once").out
    data = home.parent / "coverage.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in _coverage()))
    imported = cli("--home", str(home), "import", "--briefs", str(data))
    assert "11 lines, 10 new, 1 duplicates" in imported.out, imported.out + imported.err
    store = Store.open(f"sqlite:///{home / 'broadsheet.db'}")
    try:
        now = datetime.now(UTC)
        store.jobs.finish(store.jobs.create("opml_import", "subscriptions.opml", now).id, now)
        store.rewrites.save("brief", 1, version="v1", source_hash="0" * 64, status="failed",
                            data={"reason": "model unreachable"}, now=now, sources=[[1, 0]])  # fmt: skip
        with store.engine.begin() as conn:
            # A story merged into a later one: a reference forward in key order, stored after its row.
            last = conn.execute(select(func.max(stories.c.id))).scalar_one()
            conn.execute(update(stories).where(stories.c.id == 1).values(status="merged", merged_into=last))
            conn.execute(
                story_events.insert().values(at=now, kind="merge", story_id=1, into_id=last, score=0.8125)
            )
        # A reader signed in, with an API token, who commented, replied, edited, reported and voted.
        ada = store.accounts.add_user("ada", "", "reader", now)
        store.accounts.open_session(ada.id, "0" * 64, now, timedelta(days=30))
        store.accounts.add_token(ada.id, "api", "1" * 64, "newsboat", now)
        first = store.comments.add(1, ada.id, "Low water.", "<p>Low water.</p>", now)
        reply = store.comments.add(1, ada.id, "Lower.", "<p>Lower.</p>", now, parent_id=first.id)
        store.comments.edit(reply.id, "Lower still.", "<p>Lower still.</p>", now)
        store.comments.report(first.id, ada.id, "", now)
        store.comments.vote(first.id, ada.id, now)
        # ... who follows an outlet, mutes a tag, bookmarked an article and read it.
        store.follows.follow(ada.id, "outlet", "the-valley-courier", "The Valley Courier", now)
        store.follows.follow(ada.id, "tag", "local", "Local", now, mute=True)
        store.follows.bookmark(ada.id, 1, now)
        with store.engine.connect() as conn:
            story = conn.execute(select(articles.c.story_id).where(articles.c.id == 1)).scalar_one()
        store.follows.record_read(ada.id, 1, story, now)
        # ... and reads in an app: subscribed to the site's sources, one marked read.
        store.library.ensure_library(ada.id, now, now - timedelta(days=7))
        store.library.mark(ada.id, [1], True, now)
        store.library.label(ada.id, [1], store.library.add_folder(ada.id, "Keep", now), now)
        # A source subscribed at a WebSub hub, with a pushed document waiting for the crawler.
        source_id = store.sources.all()[0].id
        store.websub.requested(
            source_id, "https://hub.example/", "https://topic.example/", "t" * 32, "s" * 64, 3600, now
        )
        store.websub.verified(source_id, "t" * 32, "https://topic.example/", 3600, now)
        store.websub.add_push(source_id, "t" * 32, b"<feed/>", "application/atom+xml", now)
    finally:
        store.close()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the filled home is kept: made by the first test that asks for a home, copied for each."""
    return tmp_path_factory.mktemp("filled") / "home"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The home copied from is SQLite's (overrides the two-back-end fixture); the target is PostgreSQL."""
    return f"sqlite:///{tmp_path / 'b.db'}"


@pytest.fixture
def home(filled: Path, cli: Cli, publisher: Publisher, tmp_path: Path) -> Path:
    """A copy of the filled home, where the `cli` fixture looks for it."""
    if not filled.exists():
        _fill(cli, filled, publisher)
    shutil.copytree(filled, tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def target(postgres: PostgresCluster) -> Iterator[str]:
    """An empty PostgreSQL database, not yet migrated (the copy migrates it)."""
    url = postgres.database(migrated=False)
    yield url
    postgres.drop(url)


@pytest.fixture
def engines(home: Path, target: str) -> Iterator[tuple[Engine, Engine]]:
    """Plain engines on both databases, for looking into them beside the command."""
    source = create_engine(f"sqlite:///{home / 'broadsheet.db'}")
    copied = create_engine(target)
    yield source, copied
    source.dispose()
    copied.dispose()


def _progress_left(engine: Engine) -> bool:
    with engine.connect() as conn:
        return inspect(conn).has_table("broadsheet_copy_progress")


def _same_everywhere(source: Engine, copied: Engine) -> None:
    for table in COPIED_TABLES:
        assert table_digest(source, table) == table_digest(copied, table), table.name


def test_copy_moves_every_table_and_the_copy_reads_the_same(
    cli: Cli, home: Path, target: str, engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, copied = engines
    for table in COPIED_TABLES:  # the home holds something of every kind
        assert table_digest(source, table)[0] > 0, table.name
    result = cli("copy", "--to", target)
    assert result.code == 0, result.err
    assert f"to {target}" in result.out and "not copied: leases" in result.out
    assert "articles: " in result.out and "DIFFERS" not in result.out
    assert f"in {len(COPIED_TABLES)} tables" in result.out
    _same_everywhere(source, copied)
    assert not _progress_left(copied)
    with copied.connect() as conn:  # analysed once copied: PostgreSQL plans for the rows it holds
        planned = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'articles'")).scalar_one()
    assert planned == table_digest(source, articles)[0]

    exported = cli("export")
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", target)
    assert cli("export").out == exported.out and exported.out.count("\n") == 14
    for words in ("reservoir", "Saturn dome", "pumpkin"):
        assert _found(source, words) == _found(copied, words) != set(), words


def _found(engine: Engine, words: str) -> set[int]:
    return {hit.card.id for hit in search(engine, words).hits}


def test_a_second_copy_into_the_same_database_is_refused(cli: Cli, home: Path, target: str) -> None:
    assert cli("copy", "--to", target).code == 0
    again = cli("copy", "--to", target)
    assert again.code == 1
    assert "already holds data (jobs, outlet_icons" in again.err and "empty database" in again.err
    resumed = cli("copy", "--to", target, "--resume")
    assert resumed.code == 1 and "none was" in resumed.err.replace("\n", " ")


def _kill_midway(home: Path, target: str, copied: Engine, log: Path) -> None:
    """Run the copy a row a transaction in its own process, and SIGKILL it once it is into the articles."""
    command = ["-m", "broadsheet", "--home", str(home), "copy", "--to", target, "--batch-size", "1"]
    with log.open("wb") as written:
        process = subprocess.Popen([sys.executable, *command], stdout=written, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _articles_started(copied):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the copy never reached the articles"
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    _wait_until_alone(copied)
    assert _progress_left(copied)  # it was stopped half-way


def test_a_copy_killed_midway_resumes_without_a_row_twice(
    cli: Cli, home: Path, target: str, engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    source, copied = engines
    _kill_midway(home, target, copied, tmp_path / "copy.log")
    with copied.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stories")).scalar_one() > 0

    refused = cli("copy", "--to", target)
    assert refused.code == 1 and "was interrupted: add --resume" in refused.err.replace("\n", " ")
    resumed = cli("copy", "--to", target, "--resume")
    assert resumed.code == 0, resumed.err
    assert "jobs: 0 rows copied" in resumed.out and "DIFFERS" not in resumed.out
    _same_everywhere(source, copied)
    assert not _progress_left(copied)


def test_a_home_written_to_between_runs_fails_the_check(
    cli: Cli, home: Path, target: str, engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    source, copied = engines
    _kill_midway(home, target, copied, tmp_path / "copy.log")
    with source.begin() as conn:  # a crawler records a fetch of the source, copied already
        conn.execute(text("UPDATE sources SET last_status = 'error', error_count = 1"))
    resumed = cli("copy", "--to", target, "--resume")
    assert resumed.code == 1
    assert "sources " in resumed.out and "DIFFERS" in resumed.out
    assert "differs from the home in sources: was the home written to" in resumed.err.replace("\n", " ")
    assert _progress_left(copied)  # never taken for a finished copy


def _articles_started(engine: Engine) -> bool:
    with engine.connect() as conn:
        if not inspect(conn).has_table("broadsheet_copy_progress"):
            return False
        return bool(conn.execute(text("SELECT count(*) >= 2 FROM articles")).scalar_one())


def _wait_until_alone(engine: Engine) -> None:
    """Until the killed copy's session is gone from the server (with it, its lock)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while conn.execute(query).scalar_one() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_new_rows_in_the_copy_get_new_ids(
    cli: Cli, home: Path, target: str, engines: tuple[Engine, Engine], publisher: Publisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    source, copied = engines
    assert cli("copy", "--to", target).code == 0
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", target)
    publisher.add("/feed.xml", rss(make_stories(1, seed=9), publisher.base_url, title="The Quay Gazette"),
                  content_type="application/rss+xml")  # fmt: skip
    added = cli("source", "add", publisher.url("/feed.xml"))
    assert added.code == 0, added.err
    with source.connect() as conn:
        sources = conn.execute(text("SELECT max(id) FROM sources")).scalar_one()
    assert f"added source {sources + 1}:" in added.out
    with copied.begin() as conn:  # and every other table's next id is a new one
        for table in ("articles", "stories", "story_events", "jobs"):
            top = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
            following = conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))
            assert following.scalar_one() == top + 1, table


def test_bad_targets_and_homes_are_refused_clearly(
    cli: Cli, home: Path, tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_postgres = cli("copy", "--to", f"sqlite:///{tmp_path / 'x.db'}")
    assert not_postgres.code == 1 and "is not a PostgreSQL database" in not_postgres.err
    other_driver = cli("copy", "--to", "postgresql+pg8000://someone:secret@127.0.0.1/news")
    assert other_driver.code == 1 and "postgresql+psycopg://someone:***@127.0.0.1/news" in other_driver.err
    unreachable = "postgresql+psycopg://someone:secret@127.0.0.1:1/news"  # nothing listens on port 1
    down = cli("copy", "--to", unreachable)
    assert down.code == 1 and "could not reach PostgreSQL at" in down.err
    assert "someone:***@127.0.0.1" in down.err and "secret" not in down.err
    assert cli("copy").code == 2  # --to is required

    monkeypatch.setenv("BROADSHEET_DATABASE_URL", target)
    on_server = cli("copy", "--to", target)
    assert on_server.code == 1 and "copy moves a SQLite home" in on_server.err
    monkeypatch.delenv("BROADSHEET_DATABASE_URL")
    empty = cli("--home", str(tmp_path / "nothing"), "copy", "--to", target)
    assert empty.code == 1 and "nothing to copy" in empty.err
