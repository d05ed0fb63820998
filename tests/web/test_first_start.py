"""First start: no sources, no articles. The home page says how to begin instead of showing an empty list."""

from __future__ import annotations

from pathlib import Path

import httpx
from website import running

from broadsheet.config import Settings
from broadsheet.web import create_app


def test_home_guides_a_new_user_to_add_sources(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path, crawl_in_server=False))
    with running(app) as url:
        page = httpx.get(url + "/")
        assert page.status_code == 200
        assert "No sources yet" in page.text
        assert 'href="/admin/sources"' in page.text and "OPML" in page.text
        admin = httpx.get(url + "/admin/sources")
        assert admin.status_code == 403 and "BROADSHEET_ADMIN_PASSWORD" in admin.text
