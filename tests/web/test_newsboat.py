"""Debian's newsboat, a real reader app, against the running server: through its `feedhq` source (a Google
Reader API client) and its `miniflux` source. It must list the reader's subscriptions, fetch their unread
articles and mark them read, and the server's state must show it.

newsboat 2.21 reloads and counts without a terminal (`-x reload print-unread`); marking read exists only in its
interface, so that part drives the interface through a pseudo-terminal, as a person would press the keys:
Enter opens the first feed, N toggles its selected article, q goes back, C marks all feeds read (y confirms).
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from appsite import AppSite, app_site

from broadsheet.store import EntryQuery

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed (make system-deps)")

RECENT = 15  # the site's unread articles for a new reader (appsite: three sources of five)
UNREAD = re.compile(r"(\d+) unread articles")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[AppSite]:
    with app_site(tmp_path_factory.mktemp("newsboat"), module_database_url) as found:
        yield found


def _config(home: Path, source: str, url: str, name: str, password: str) -> list[str]:
    """newsboat's command line for `source` ("feedhq" or "miniflux") as reader `name`, its files in `home`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "password").write_text(password)
    lines = [f'urls-source "{source}"', f'{source}-url "{url}"', f'{source}-login "{name}"',
             f'{source}-passwordfile "{home / "password"}"', 'confirm-exit no', 'show-read-feeds yes']  # fmt: skip
    if source == "feedhq":
        # Without this it also lists three feeds of feedhq.org itself; and it asks for 100 items a feed.
        lines += ["feedhq-show-special-feeds no", "feedhq-min-items 100"]
    (home / "config").write_text("\n".join(lines) + "\n")
    # A remote source reads only query feeds from the urls file; one keeps newsboat going on an empty list.
    (home / "urls").write_text('"query:Unread Articles:unread = \\"yes\\""\n')
    return [str(NEWSBOAT), "-C", str(home / "config"), "-u", str(home / "urls"), "-c", str(home / "cache.db")]


def _unread(command: list[str]) -> int:
    done = subprocess.run(
        [*command, "-x", "reload", "print-unread"], capture_output=True, text=True, timeout=60
    )
    found = UNREAD.search(done.stdout)
    assert done.returncode == 0 and found, (done.returncode, done.stdout, done.stderr)
    return int(found.group(1))


def _press(command: list[str], keys: list[str]) -> None:
    """Run newsboat's interface in a pseudo-terminal and press `keys`, each once the screen has settled."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: newsboat on the terminal
        os.environ["TERM"] = "xterm"
        os.environ["LINES"], os.environ["COLUMNS"] = "40", "120"
        os.execv(command[0], command)
    try:
        _settle(fd, first=15.0)
        for key in keys:
            os.write(fd, key.encode())
            _settle(fd)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return
            _settle(fd, quiet=0.2)
        raise AssertionError("newsboat did not quit after its keys")
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def _settle(fd: int, first: float = 5.0, quiet: float = 0.6) -> None:
    """Read the screen until it has been still for `quiet` seconds (and something came, within `first`)."""
    deadline = time.monotonic() + first
    seen = False
    last = time.monotonic()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return
            seen, last = True, time.monotonic()
        elif seen and time.monotonic() - last >= quiet:
            return


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(what)


def _server_unread(site: AppSite, name: str) -> int:
    return len(site.store.library.entry_ids(site.user_id(name), EntryQuery(read=False, limit=1000)))


@pytest.mark.parametrize(("source", "name"), [("feedhq", "ada"), ("miniflux", "bo")])
def test_newsboat_lists_fetches_and_marks_read(site: AppSite, tmp_path: Path, source: str, name: str) -> None:
    command = _config(tmp_path / source, source, site.url, name, site.passwords[name])
    other = site.user_id("bo" if name == "ada" else "ada")
    others_unread = len(site.store.library.entry_ids(other, EntryQuery(read=False, limit=1000)))
    assert _unread(command) == RECENT  # the month-old articles came read: before the backlog

    # The subscriptions it lists, by title, are the reader's (each feed is a cached feed of its own).
    # (feedhq keeps each feed's title; miniflux keeps its id and names it by a tag, its title left empty)
    with sqlite3.connect(tmp_path / source / "cache.db") as cache:
        feeds = cache.execute("SELECT rssurl, title FROM rss_feed").fetchall()
        items = cache.execute("SELECT count(*) FROM rss_item").fetchone()[0]
    subs = site.store.library.subscriptions(site.user_id(name))
    if source == "feedhq":
        assert {sub.title for sub in subs} <= {title for _, title in feeds}, feeds
    else:
        assert {str(sub.source_id) for sub in subs} <= {url for url, _ in feeds}, feeds
    assert items >= RECENT

    # One article opened and toggled read: the server has it read.
    _press(command, ["\r", "N", "q", "q"])
    _eventually(
        lambda: _server_unread(site, name) == RECENT - 1, "the toggled article is not read on the server"
    )
    assert _unread(command) == RECENT - 1

    # Every feed marked read: the server has nothing unread; another reader is untouched.
    _press(command, ["C", "y", "q"])
    _eventually(lambda: _server_unread(site, name) == 0, "mark-all-feeds-read did not reach the server")
    assert _unread(command) == 0
    assert len(site.store.library.entry_ids(other, EntryQuery(read=False, limit=1000))) == others_unread
