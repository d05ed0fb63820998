"""HEAD on every GET route of the app (pages, API, feeds, static files, images): answered as GET, without a body."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from website import ADMIN_PASSWORD, MODELS_DIR, Site, running

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.readers.tokens import new_token, token_hash
from broadsheet.slugs import slugify
from broadsheet.web import create_app
from broadsheet.web.cache import APP_PREFIXES
from broadsheet.web.security import SESSION_COOKIE, proxied_image
from publisher import Publisher

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


def get_routes(app: FastAPI) -> Iterator[str]:
    """The path template of every route answering GET, included routers' routes one by one."""
    for route in app.routes:
        effective: Any = getattr(route, "effective_route_contexts", None)
        for each in effective() if effective is not None else [route]:
            path: str = getattr(each, "path", "")
            if "GET" in (getattr(each, "methods", None) or ()):
                yield path
            elif path == "/static":  # a mount: its files answer GET
                yield "/static/style.css"


def test_every_get_route_answers_head_like_get_without_a_body(site: Site, publisher: Publisher) -> None:
    publisher.add("/pic.png", PNG, content_type="image/png")
    settings = Settings(home=site.home, admin_password=ADMIN_PASSWORD, crawl_in_server=False, page_size=10,
                        models_dir=MODELS_DIR, proxy_images=True, allow_private_networks=True)  # fmt: skip
    app = create_app(settings, store=site.store)
    article = site.client.get("/api/v1/articles/1").json()
    story, outlet, tag = article["story_id"], article["outlet_slug"], slugify(article["tags"][0])
    # A signed-in moderator (the first admin account), with a comment of their own and a sign-in link, so that
    # the account pages answer 200 too.
    admin = site.store.accounts.user_by_name("admin")
    assert admin is not None
    now = utcnow()
    session, link = new_token("bs_s_"), new_token("bs_l_")
    site.store.accounts.open_session(admin.id, token_hash(session), now, timedelta(hours=1))
    site.store.accounts.add_token(admin.id, "link", token_hash(link), "reset", now, now + timedelta(hours=1))
    comment = site.store.comments.add(1, admin.id, "HEAD check.", "<p>HEAD check.</p>", now)
    values = {"article_id": "1", "story_id": str(story), "kind": "atom", "topic": article["topic"],
              "comment_id": str(comment.id), "token": link}  # fmt: skip
    slugs = {"/outlets/": outlet, "/tags/": tag, "/entities/": article["entities"][0]["slug"]}
    # The reader-app APIs answer apps signed in with app passwords (their own tests: test_greader_api,
    # test_miniflux_api, test_fever_api), and WebSub's callback answers hubs (test_websub): left out here.
    routes = sorted(r for r in set(get_routes(app)) if not r.startswith((*APP_PREFIXES, "/websub/")))
    assert {"/", "/articles/{article_id}", "/api/v1/articles", "/feed.{kind}", "/img/{sig}"} <= set(routes)
    checked = []
    with (
        running(app) as url,
        httpx.Client(
            base_url=url, timeout=10, auth=("admin", ADMIN_PASSWORD), cookies={SESSION_COOKIE: session}
        ) as web,  # fmt: skip
    ):
        for route in routes:
            if route == "/img/{sig}":
                path = proxied_image(app.state.context.secret, publisher.url("/pic.png"))
            else:
                path = route
                for name, value in values.items():
                    path = path.replace(f"{{{name}}}", value)
                if "{slug}" in path:
                    path = path.replace("{slug}", next(v for k, v in slugs.items() if route.startswith(k)))
                assert "{" not in path, f"no value for a parameter of {route}: add one to the test"
                path += "?q=harbour"  # the search routes need a query; the others ignore it
            got, head = web.get(path), web.head(path)
            assert got.status_code == 200, (route, got.status_code, got.text[:200])
            assert head.status_code == 200, (route, head.status_code)
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"], route
            assert head.headers.get("content-security-policy"), route
            if not got.headers["content-type"].startswith("text/html"):  # pages show the time: may change
                assert head.headers["content-length"] == str(len(got.content)), route
            checked.append(route)
    site.store.comments.delete(comment.id, utcnow())
    assert len(checked) == len(routes) >= 20
