"""Source health on the admin page and in the API: a feed that is not valid and yields nothing says so in the
parser's words, and one with minor errors is read with a warning."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
from lxml import html as lxml_html
from pydantic import SecretStr
from website import running

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.models import SourceKind
from broadsheet.pipeline.assemble import build_crawler
from broadsheet.store import Store
from broadsheet.web import create_app
from newsroom import make_stories, rss
from publisher import Publisher

# Every test here once on SQLite and once on PostgreSQL (conftest.on_each_backend).
pytestmark = pytest.mark.usefixtures("on_each_backend")

PASSWORD = "health-check-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
BROKEN = "<rss><channel><item><title>broken & <b>unclosed"


def test_admin_page_and_api_show_why_a_source_yields_nothing_and_warn_of_minor_errors(
    settings: Settings, publisher: Publisher
) -> None:

    stories = make_stories(2)
    minor = rss(stories, publisher.base_url).replace("<channel>", "<channel><copyright>A & B</copyright>", 1)
    publisher.add("/broken.xml", BROKEN, content_type="application/rss+xml")
    publisher.add("/minor.xml", minor, content_type="application/rss+xml")
    settings = settings.model_copy(
        update={
            "admin_password": SecretStr(PASSWORD),
            "stories": False,
            "enrich": False,  # about the sources: no models to load
            "fetch_article_pages": False,
        }
    )
    store = Store.open(settings.database)
    with (
        running(create_app(settings, store=store, scheduler=False)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        token = (
            lxml_html.fromstring(client.get("/admin/sources", headers=AUTH).text)
            .cssselect('input[name="csrf"]')[0]
            .get("value")
        )
        headers = {**AUTH, "Origin": url}

        refused = client.post(
            "/admin/sources", data={"csrf": token, "url": publisher.url("/broken.xml")}, headers=headers
        )
        assert refused.status_code == 400
        assert "not a valid feed: not well-formed XML at line 1, column 36" in refused.text

        added = client.post(
            "/admin/sources",
            data={"csrf": token, "url": publisher.url("/minor.xml")},
            headers=headers,
            follow_redirects=True,
        )
        assert added.status_code == 200 and "Warning: the feed has errors" in added.text

        # A feed that breaks after it was added (here: added from an OPML list, unchecked) is named on the
        # page and in the API once the crawler has read it.
        store.sources.add(
            publisher.url("/broken.xml"),
            SourceKind.FEED,
            now=utcnow(),
            interval_seconds=settings.default_poll_interval,
        )
        report = asyncio.run(build_crawler(settings, store).run_once(all_sources=True))
        assert {s.status for s in report.sources} == {"ok", "error"}

        api = {s["url"]: s for s in client.get("/api/v1/sources", headers=AUTH).json()["items"]}
        broken, good = api[publisher.url("/broken.xml")], api[publisher.url("/minor.xml")]
        assert broken["last_status"] == "error" and broken["last_http_status"] == 200
        assert broken["last_error"].startswith("not a valid feed: not well-formed XML at line 1, column 36")
        assert good["last_status"] == "ok" and good["article_count"] == 2
        assert good["last_warning"].startswith("the feed has errors (not well-formed XML at line 2")

        page = client.get("/admin/sources", headers=AUTH).text
        assert "not a valid feed: not well-formed XML at line 1, column 36" in page
        assert "warning: the feed has errors (not well-formed XML at line 2" in page
    store.close()
