"""Every route that changes something, tried by someone who may not: nobody signed in, a signed-in reader on
another reader's things, and a reader on a moderator's or the operator's routes. None may succeed, and the
database must be as it was. The routes come from the app itself, so a new one is tried as soon as it exists."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from readersite import Forum, csrf_of, forum_site
from sqlalchemy import func, select

from broadsheet.store.schema import (
    bookmarks,
    comment_reports,
    comment_votes,
    comments,
    entry_states,
    folders,
    follows,
    sources,
    subscriptions,
    user_sessions,
    user_tokens,
    users,
)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Routes anyone may use without an account: signing up and in (which need their own form's token), a one-time
# link (which needs the link), asking about a story, and signing out.
OPEN = {
    "/signup",
    "/signin",
    "/signin/link/{token}",
    "/signin/forgot",
    "/stories/{story_id}/ask",
    "/api/v1/stories/{story_id}/ask",
    "/signout",
}
TABLES = (
    users,
    user_sessions,
    user_tokens,
    comments,
    comment_votes,
    comment_reports,
    follows,
    bookmarks,
    sources,
    subscriptions,
    folders,
    entry_states,
)


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Forum]:
    with forum_site(tmp_path_factory.mktemp("authz"), module_database_url) as site:
        yield site


def _routes(forum: Forum) -> list[tuple[str, str]]:
    found = []
    for route in forum.app.routes:  # type: ignore[attr-defined]
        effective = getattr(
            route, "effective_route_contexts", None
        )  # included routers, as test_head reads them
        for each in effective() if effective is not None else [route]:
            path: str = getattr(each, "path", "")
            for method in sorted(getattr(each, "methods", None) or ()):
                if method in WRITES and path not in OPEN:
                    found.append((method, path))
    return found


def _counts(forum: Forum) -> dict[str, int]:
    with forum.store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def _path(template: str, comment_id: int, article_id: int) -> str:
    values = {"comment_id": comment_id, "article_id": article_id, "story_id": 1, "source_id": 1, "token_id": 1,
              "kind": "outlet", "key": "the-alder-gazette", "feed_id": 1, "category_id": 1, "entry_id": 1, "token": "made-up",
              "user_id": 1}  # fmt: skip
    for name, value in values.items():
        template = template.replace(f"{{{name}}}", str(value))
    assert "{" not in template, f"no value for a parameter of {template}: add one to the test"
    return template


def _try(client: httpx.Client, method: str, path: str, csrf: str) -> httpx.Response:
    if path.startswith("/api/"):
        return client.request(method, path, json={"body": "Sneaky.", "reason": "x", "mute": True},
                              headers={"X-CSRF-Token": csrf})  # fmt: skip
    form = {"csrf": csrf, "body": "Sneaky.", "name": "owner", "display_name": "Sneaky", "label": "x",
            "current": "x", "password": "a long enough password", "kind": "outlet", "key": "the-alder-gazette",
            "action": "follow", "pack": "world-news", "url": "https://example.org/"}  # fmt: skip
    return client.request(method, path, data=form)


def test_no_write_succeeds_for_someone_who_may_not_make_it(forum: Forum) -> None:
    routes = _routes(forum)
    assert len(routes) >= 25  # the sweep sees the app's routes, not an empty list
    owner = forum.signup("owner")
    owner_api = forum.api(forum.token_for(owner))
    article = forum.article_ids[0]
    comment = owner_api.post(f"/api/v1/articles/{article}/comments", json={"body": "Mine."}).json()["id"]
    owner_api.put(f"/api/v1/me/bookmarks/{article}")

    stranger = forum.signup("stranger")
    stranger_csrf = csrf_of(stranger.get("/account").text)
    visitors = {
        "nobody": (forum.client(), csrf_of(forum.client().get("/signin").text)),
        "another reader": (stranger, stranger_csrf),
        "another reader's token": (forum.api(forum.token_for(stranger)), ""),
    }
    before = _counts(forum)
    allowed_for_readers = {
        # A signed-in reader may comment, vote, report, follow, bookmark and manage their own account: tried
        # by the stranger these change the stranger's own rows, which the counts below leave out.
        "/articles/{article_id}/comments", "/stories/{story_id}/comments", "/api/v1/articles/{article_id}/comments",
        "/api/v1/stories/{story_id}/comments", "/comments/{comment_id}/vote", "/api/v1/comments/{comment_id}/vote",
        "/comments/{comment_id}/report", "/api/v1/comments/{comment_id}/report", "/follow",
        "/articles/{article_id}/bookmark", "/api/v1/me/follows/{kind}/{key}", "/api/v1/me/bookmarks/{article_id}",
        "/account/profile", "/account/password", "/account/tokens", "/account/tokens/{token_id}/revoke",
        "/account/signout-everywhere", "/account/delete", "/account/app-passwords", "/account/email",
        "/api/v1/me/read/{article_id}",
    }  # fmt: skip
    for who, (client, csrf) in visitors.items():
        for method, template in routes:
            if who != "nobody" and template in allowed_for_readers:
                continue
            answer = _try(client, method, _path(template, comment, article), csrf)
            assert not 200 <= answer.status_code < 300, (who, method, template, answer.status_code)
            if answer.status_code in (302, 303, 307):  # only ever to sign in, or back to a page that refused
                assert answer.headers["location"].startswith(("/signin", "/admin", "/articles")), (
                    who,
                    template,
                )
    after = _counts(forum)
    assert after == before
    mine = forum.store.comments.get(comment)
    assert mine is not None and mine.body == "Mine." and mine.hidden_at is None and mine.deleted_at is None
