"""Comments over HTTP against a real server, on SQLite and on PostgreSQL: the API's contract (401, 403, 429),
who may do what to whose comment, the article page's forms and cache, ordering and replies, edits that keep
the original, reports, moderation and bans, and hostile text that must stay text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from readersite import Forum, csrf_of, forum_site
from website import ADMIN_PASSWORD

from broadsheet.web.ratelimit import RateLimit
from broadsheet.web.security import SESSION_COOKIE


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Forum]:
    with forum_site(tmp_path_factory.mktemp("comments"), module_database_url) as site:
        yield site


def _tags(page: str) -> list[tuple[str, dict[str, str]]]:
    """Every element of `page` with its attributes, as a browser's parser sees them."""
    found: list[tuple[str, dict[str, str]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, {k: v or "" for k, v in attrs}))

    Collect().feed(page)
    return found


def _token(forum: Forum, name: str) -> str:
    return forum.token_for(forum.signup(name))


def _admin(forum: Forum) -> str:
    browser = forum.client()
    page = browser.get("/signin")
    answer = browser.post(
        "/signin", data={"csrf": csrf_of(page.text), "name": "admin", "password": ADMIN_PASSWORD}
    )
    assert answer.status_code == 303
    return forum.token_for(browser, "moderating")


def test_posting_without_credentials_is_401_and_a_token_posts_reads_edits_and_deletes(forum: Forum) -> None:
    article = forum.article_ids[0]
    anonymous = forum.api()
    refused = anonymous.post(f"/api/v1/articles/{article}/comments", json={"body": "Hello"})
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].startswith("Sign in first")
    assert anonymous.patch("/api/v1/comments/1", json={"body": "x"}).status_code == 401
    assert anonymous.delete("/api/v1/comments/1").status_code == 401

    mine = forum.api(_token(forum, "poster"))
    posted = mine.post(f"/api/v1/articles/{article}/comments", json={"body": "A **fair** point."})
    assert posted.status_code == 201
    comment = posted.json()
    assert comment["html"] == "<p>A <strong>fair</strong> point.</p>"
    assert comment["author"] == {"name": "poster", "display_name": ""}
    thread = anonymous.get(f"/api/v1/articles/{article}/comments").json()
    assert [c["id"] for c in thread["comments"]] == [comment["id"]] and thread["count"] == 1

    edited = mine.patch(f"/api/v1/comments/{comment['id']}", json={"body": "A *fairer* point."})
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    assert (
        anonymous.get(f"/api/v1/articles/{article}/comments").json()["comments"][0]["body"]
        == "A *fairer* point."
    )
    assert mine.delete(f"/api/v1/comments/{comment['id']}").status_code == 204
    assert anonymous.get(f"/api/v1/articles/{article}/comments").json()["count"] == 0
    assert mine.post("/api/v1/articles/999999/comments", json={"body": "Nowhere"}).status_code == 404


def test_one_reader_cannot_edit_or_delete_anothers_comment(forum: Forum) -> None:
    article = forum.article_ids[1]
    owner = forum.api(_token(forum, "owner"))
    other = forum.api(_token(forum, "other"))
    comment = owner.post(f"/api/v1/articles/{article}/comments", json={"body": "Mine."}).json()
    edit = other.patch(f"/api/v1/comments/{comment['id']}", json={"body": "Yours now."})
    assert edit.status_code == 403 and "someone else's comment" in edit.json()["error"]["message"]
    assert other.delete(f"/api/v1/comments/{comment['id']}").status_code == 403
    assert other.post(f"/api/v1/comments/{comment['id']}/hide").status_code == 403  # readers do not moderate
    assert forum.api().get(f"/api/v1/comments/{comment['id']}").json()["body"] == "Mine."
    # The same through the browser's forms.
    browser = forum.signup("other_browser")
    token = csrf_of(browser.get("/account").text)
    assert browser.post(f"/comments/{comment['id']}/delete", data={"csrf": token}).status_code == 403
    assert browser.get(f"/comments/{comment['id']}/edit").status_code == 403
    assert forum.store.comments.get(comment["id"]).deleted_at is None  # type: ignore[union-attr]


def test_past_the_rate_limit_posting_is_429_with_retry_after(forum: Forum) -> None:
    context = forum.app.state.context  # type: ignore[attr-defined]
    saved = context.comment_limit
    context.comment_limit = RateLimit(1, burst=2)
    try:
        api = forum.api(_token(forum, "hasty"))
        answers = [api.post(f"/api/v1/articles/{forum.article_ids[2]}/comments", json={"body": f"Post {i}"})
                   for i in range(3)]  # fmt: skip
    finally:
        context.comment_limit = saved
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert "too fast" in answers[2].json()["error"]["message"]


def test_a_browser_session_needs_the_pages_csrf_token_for_api_writes(forum: Forum) -> None:
    browser = forum.signup("sessioned")
    article = forum.article_ids[0]
    refused = browser.post(f"/api/v1/articles/{article}/comments", json={"body": "Via cookie."})
    assert refused.status_code == 403
    token = csrf_of(browser.get("/account").text)
    accepted = browser.post(f"/api/v1/articles/{article}/comments", json={"body": "Via cookie."},
                            headers={"X-CSRF-Token": token})  # fmt: skip
    assert accepted.status_code == 201


def test_the_comment_form_posts_and_the_cached_article_page_shows_it_at_once(forum: Forum) -> None:
    article = forum.article_ids[3]
    passer_by = forum.client()
    before = passer_by.get(f"/articles/{article}")
    assert "No comments yet." in before.text and "Sign in</a> or" in before.text
    assert passer_by.get(f"/articles/{article}").headers.get("etag")  # the page is in the cache now

    browser = forum.signup("formal", display_name="Formal Reader")
    page = browser.get(f"/articles/{article}")
    assert page.headers["cache-control"] == "no-store" and 'name="body"' in page.text
    answer = browser.post(f"/articles/{article}/comments",
                          data={"csrf": csrf_of(page.text), "body": "Posted from the *form*."})  # fmt: skip
    assert answer.status_code == 303
    assert re.fullmatch(rf"/articles/{article}#comment-\d+", answer.headers["location"])
    after = passer_by.get(f"/articles/{article}")
    assert "Posted from the <em>form</em>." in after.text and "Formal Reader" in after.text
    assert "No comments yet." not in after.text
    # Not signed in, the form sends you to sign in first.
    anonymous = forum.client()
    redirect = anonymous.post(f"/articles/{article}/comments", data={"body": "Sneaky"})
    assert redirect.status_code == 303 and redirect.headers["location"].startswith("/signin?next=")


def test_hostile_comments_and_display_names_stay_text(forum: Forum) -> None:
    payloads = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "[click](javascript:alert(3))",
                "<a href=\"javascript:alert(4)\">x</a>", "![x](https://evil.example/x.png)"]  # fmt: skip
    browser = forum.signup("hostile", display_name='<script>alert("name")</script>')
    token = forum.token_for(browser)
    api = forum.api(token)
    article = forum.article_ids[2]
    for payload in payloads:
        assert api.post(f"/api/v1/articles/{article}/comments", json={"body": payload}).status_code == 201
    page = forum.client().get(f"/articles/{article}").text
    comments = page[page.index('<section class="comments"') :]
    tags = _tags(comments)
    assert not {name for name, _ in tags} & {"script", "img", "iframe", "svg"}
    for _name, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")]
        assert not any(v.strip().lower().startswith("javascript:") for v in attrs.values())
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in comments
    for item in forum.api().get(f"/api/v1/articles/{article}/comments").json()["comments"]:
        assert "<script" not in item["html"] and "javascript:" not in item["html"].split(">", 1)[0]


def test_replies_are_one_level_deep_and_the_thread_orders_newest_oldest_or_top(forum: Forum) -> None:
    article = forum.article_ids[1]
    first = forum.api(_token(forum, "first_voice"))
    second = forum.api(_token(forum, "second_voice"))
    clock = forum.app.state.context  # type: ignore[attr-defined]
    saved = clock.clock
    base = clock.clock()
    made = []
    for i, api in enumerate((first, second, first)):
        clock.clock = lambda at=base + timedelta(minutes=i): at
        made.append(
            api.post(f"/api/v1/articles/{article}/comments", json={"body": f"Thread {i}"}).json()["id"]
        )
    clock.clock = lambda: base + timedelta(minutes=5)
    reply = second.post(
        f"/api/v1/articles/{article}/comments", json={"body": "A reply", "parent_id": made[0]}
    )
    deeper = first.post(f"/api/v1/articles/{article}/comments",
                        json={"body": "Deeper", "parent_id": reply.json()["id"]})  # fmt: skip
    assert deeper.json()["parent_id"] == made[0]  # a reply to a reply joins its thread
    assert second.put(f"/api/v1/comments/{made[1]}/vote").status_code == 204
    assert first.put(f"/api/v1/comments/{made[1]}/vote").status_code == 204
    assert first.put(f"/api/v1/comments/{made[1]}/vote").status_code == 204  # once per reader
    clock.clock = saved

    def order(how: str) -> list[int]:
        thread = forum.api().get(f"/api/v1/articles/{article}/comments", params={"order": how}).json()
        return [c["id"] for c in thread["comments"] if c["id"] in made]

    assert order("newest") == [made[2], made[1], made[0]]
    assert order("oldest") == made
    assert order("top")[0] == made[1]
    thread = forum.api().get(f"/api/v1/articles/{article}/comments", params={"order": "oldest"}).json()
    replies = next(c for c in thread["comments"] if c["id"] == made[0])["replies"]
    assert [r["body"] for r in replies] == ["A reply", "Deeper"]
    top_page = forum.client().get(f"/articles/{article}", params={"comments": "top"}).text
    assert top_page.index("Thread 1") < top_page.index("Thread 0")
    assert '<strong aria-current="true">Top</strong>' in top_page


def test_an_edit_keeps_the_original_and_the_edit_window_closes(forum: Forum) -> None:
    api = forum.api(_token(forum, "editor"))
    article = forum.article_ids[0]
    comment = api.post(f"/api/v1/articles/{article}/comments", json={"body": "First draft."}).json()
    assert api.patch(f"/api/v1/comments/{comment['id']}", json={"body": "Second draft."}).status_code == 200
    assert [body for body, _ in forum.store.comments.revisions(comment["id"])] == ["First draft."]
    context = forum.app.state.context  # type: ignore[attr-defined]
    later = context.clock() + timedelta(minutes=forum.settings.comment_edit_minutes + 1)
    saved = context.clock
    context.clock = lambda: later
    try:
        late = api.patch(f"/api/v1/comments/{comment['id']}", json={"body": "Third draft."})
    finally:
        context.clock = saved
    assert late.status_code == 403 and "can be edited for 15 minutes" in late.json()["error"]["message"]
    assert forum.api().get(f"/api/v1/comments/{comment['id']}").json()["body"] == "Second draft."


def test_reports_reach_moderators_who_hide_and_restore(forum: Forum) -> None:
    article = forum.article_ids[3]
    rude = forum.api(_token(forum, "rude"))
    comment = rude.post(f"/api/v1/articles/{article}/comments", json={"body": "Something rude."}).json()
    reporter = forum.signup("reporter")
    page = reporter.get(f"/articles/{article}")
    reported = reporter.post(f"/comments/{comment['id']}/report",
                             data={"csrf": csrf_of(page.text), "reason": "Rude"})  # fmt: skip
    assert reported.status_code == 303
    assert reporter.get("/moderation").status_code == 403

    moderator = forum.api(_admin(forum))
    assert moderator.post(f"/api/v1/comments/{comment['id']}/hide").json()["hidden"] is True
    anonymous = forum.api()
    assert comment["id"] not in [
        c["id"] for c in anonymous.get(f"/api/v1/articles/{article}/comments").json()["comments"]
    ]
    assert anonymous.get(f"/api/v1/comments/{comment['id']}").status_code == 404
    assert "Something rude." not in forum.client().get(f"/articles/{article}").text
    seen = moderator.get(f"/api/v1/articles/{article}/comments").json()["comments"]
    assert any(c["id"] == comment["id"] and c["hidden"] for c in seen)
    assert moderator.post(f"/api/v1/comments/{comment['id']}/restore").json()["hidden"] is False
    assert "Something rude." in forum.client().get(f"/articles/{article}").text


def test_the_moderation_page_lists_reports_and_a_ban_ends_the_readers_sessions(forum: Forum) -> None:
    troll = forum.signup("troll")
    troll_token = forum.token_for(troll)
    article = forum.article_ids[0]
    comment = (
        forum.api(troll_token).post(f"/api/v1/articles/{article}/comments", json={"body": "Bait."}).json()
    )
    forum.api(_token(forum, "witness")).post(
        f"/api/v1/comments/{comment['id']}/report", json={"reason": "Trolling"}
    )

    admin = forum.client()
    page = admin.get("/signin")
    admin.post("/signin", data={"csrf": csrf_of(page.text), "name": "admin", "password": ADMIN_PASSWORD})
    listing = admin.get("/moderation")
    assert listing.status_code == 200 and "Trolling" in listing.text and "Bait." in listing.text
    banned = admin.post(
        "/moderation/ban", data={"csrf": csrf_of(listing.text), "name": "troll", "reason": "trolling"}
    )
    assert banned.status_code == 200 and "troll is banned" in banned.text
    assert troll.get("/account").status_code == 303  # signed out
    again = forum.api(troll_token).post(f"/api/v1/articles/{article}/comments", json={"body": "More bait."})
    assert again.status_code == 403 and "banned" in again.json()["error"]["message"]
    signin = forum.signin("troll")
    assert signin.status_code == 403 and SESSION_COOKIE not in signin.headers.get("set-cookie", "")


def test_cards_show_how_many_comments_an_article_has(forum: Forum) -> None:
    article = forum.article_ids[2]
    api = forum.api(_token(forum, "counter"))
    visible = forum.store.comments.counts([article])[article]
    api.post(f"/api/v1/articles/{article}/comments", json={"body": "One more."})
    for path in ("/", "/outlets/the-alder-gazette"):
        page = (
            forum.api(_token(forum, f"reader_of_{path.count('/')}")).get(path).text
        )  # signed in: not cached
        shown = f"{visible + 1} comment{'s' if visible + 1 != 1 else ''}"
        assert f'href="/articles/{article}#comments">{shown}</a>' in page, path


def test_a_banned_moderator_can_no_longer_moderate(forum: Forum) -> None:
    fallen = forum.signup("fallen_mod")
    token = forum.token_for(fallen)
    user = forum.store.accounts.user_by_name("fallen_mod")
    assert user is not None
    forum.store.accounts.set_role(user.id, "moderator")
    article = forum.article_ids[0]
    victim = forum.api(_token(forum, "victim")).post(
        f"/api/v1/articles/{article}/comments", json={"body": "Mine."}
    )
    forum.store.accounts.ban(user.id, "abuse", forum.app.state.context.clock())  # type: ignore[attr-defined]
    api = forum.api(token)
    assert api.post(f"/api/v1/comments/{victim.json()['id']}/hide").status_code == 403
    assert api.delete(f"/api/v1/comments/{victim.json()['id']}").status_code == 403
    assert api.post(f"/api/v1/comments/{victim.json()['id']}/report", json={"reason": "x"}).status_code == 403
    assert api.put(f"/api/v1/comments/{victim.json()['id']}/vote").status_code == 403


def test_a_session_cookie_however_spelled_never_reaches_the_shared_cache(forum: Forum) -> None:
    browser = forum.signup("spaced_cookie", display_name="Spaced Cookie")
    session = browser.cookies[SESSION_COOKIE]
    article = forum.article_ids[1]
    raw = forum.client()
    for cookie in (
        f"{SESSION_COOKIE} ={session}",
        f"a=b;{SESSION_COOKIE}={session}",
        f"a=b; {SESSION_COOKIE} = {session}",
    ):
        answer = raw.get(f"/articles/{article}", headers={"Cookie": cookie})
        assert answer.headers["cache-control"] == "no-store", cookie
    for _ in range(2):
        assert "Spaced Cookie" not in forum.client().get(f"/articles/{article}").text


def test_an_api_token_signs_nobody_in_to_the_account_pages(forum: Forum) -> None:
    browser = forum.signup("token_holder")
    token = forum.token_for(browser)
    script = forum.api(token)
    script.headers["Origin"] = forum.url
    page = script.get("/account")
    assert page.status_code == 303  # the pages take sessions only
    minted = script.post(
        "/account/tokens", data={"csrf": csrf_of(browser.get("/account").text), "label": "backdoor"}
    )
    assert minted.status_code == 303 and minted.headers["location"].startswith("/signin")
    user = forum.store.accounts.user_by_name("token_holder")
    assert user is not None and [t.label for t in forum.store.accounts.tokens(user.id, "api")] == ["script"]
    assert script.get("/account/data.json").status_code == 200  # reading your own data is fine


def test_a_long_comment_in_any_script_fits_on_articles_and_stories_alike(forum: Forum) -> None:
    browser = forum.signup("long_writer")
    article = forum.article_ids[0]
    page = browser.get(f"/articles/{article}")
    body = "Привет мир " * 900  # 9 900 characters, some 36 KB as a form
    answer = browser.post(f"/articles/{article}/comments", data={"csrf": csrf_of(page.text), "body": body})
    assert answer.status_code == 303


def test_hidden_threads_stay_hidden_replies_included(forum: Forum) -> None:
    article = forum.article_ids[2]
    author = forum.api(_token(forum, "thread_starter"))
    replier = forum.api(_token(forum, "thread_replier"))
    top = author.post(f"/api/v1/articles/{article}/comments", json={"body": "Top."}).json()
    reply = replier.post(
        f"/api/v1/articles/{article}/comments", json={"body": "Reply.", "parent_id": top["id"]}
    ).json()
    anonymous = forum.api()
    assert anonymous.get(f"/api/v1/comments/{reply['id']}").status_code == 200  # cached now
    assert forum.api(_admin(forum)).post(f"/api/v1/comments/{top['id']}/hide").status_code == 200
    assert anonymous.get(f"/api/v1/comments/{top['id']}").status_code == 404
    assert anonymous.get(f"/api/v1/comments/{reply['id']}").status_code == 404  # under a hidden one
    again = author.post(
        f"/api/v1/articles/{article}/comments", json={"body": "Into it", "parent_id": reply["id"]}
    )
    assert again.status_code == 400 and "hidden" in again.json()["error"]["message"]


def test_votes_are_limited_and_one_that_changes_nothing_keeps_the_cache(forum: Forum) -> None:
    article = forum.article_ids[3]
    comment = forum.api(_token(forum, "voted_on")).post(f"/api/v1/articles/{article}/comments",
                                                         json={"body": "Vote me."}).json()  # fmt: skip
    voter = forum.api(_token(forum, "eager_voter"))
    assert voter.put(f"/api/v1/comments/{comment['id']}/vote").status_code == 204
    passer_by = forum.client()
    passer_by.get(f"/articles/{article}")
    cached = passer_by.get(f"/articles/{article}").headers["etag"]
    assert voter.put(f"/api/v1/comments/{comment['id']}/vote").status_code == 204  # already voted: no change
    assert passer_by.get(f"/articles/{article}").headers["etag"] == cached
    context = forum.app.state.context  # type: ignore[attr-defined]
    saved = context.comment_limit
    context.comment_limit = RateLimit(1, burst=2)
    try:
        answers = [voter.delete(f"/api/v1/comments/{comment['id']}/vote").status_code for _ in range(3)]
    finally:
        context.comment_limit = saved
    assert answers == [204, 204, 429]


def test_a_moderator_dismisses_an_unfounded_report_and_the_comment_stays(forum: Forum) -> None:
    article = forum.article_ids[0]
    comment = forum.api(_token(forum, "innocent")).post(f"/api/v1/articles/{article}/comments",
                                                         json={"body": "Nothing wrong."}).json()  # fmt: skip
    forum.api(_token(forum, "grumpy")).post(
        f"/api/v1/comments/{comment['id']}/report", json={"reason": "Dislike"}
    )
    admin = forum.client()
    page = admin.get("/signin")
    admin.post("/signin", data={"csrf": csrf_of(page.text), "name": "admin", "password": ADMIN_PASSWORD})
    listing = admin.get("/moderation")
    assert "Dislike" in listing.text
    dismissed = admin.post(f"/comments/{comment['id']}/dismiss", data={"csrf": csrf_of(listing.text)})
    assert dismissed.status_code == 303
    assert "Dislike" not in admin.get("/moderation").text
    assert forum.api().get(f"/api/v1/comments/{comment['id']}").json()["hidden"] is False


def test_a_long_thread_comes_in_pages_of_fifty(forum: Forum) -> None:
    article = forum.article_ids[3]
    api = forum.api(_token(forum, "prolific"))
    before = forum.api().get(f"/api/v1/articles/{article}/comments", params={"limit": 200}).json()
    existing = len(before["comments"])
    for i in range(51):
        assert (
            api.post(f"/api/v1/articles/{article}/comments", json={"body": f"Numbered {i}"}).status_code
            == 201
        )
    first = forum.api().get(f"/api/v1/articles/{article}/comments").json()
    assert len(first["comments"]) == 50 and first["next_offset"] == 50
    assert first["comments"][0]["body"] == "Numbered 50"  # newest first
    rest = forum.api().get(f"/api/v1/articles/{article}/comments", params={"offset": 50}).json()
    assert len(rest["comments"]) == 1 + existing and rest["next_offset"] is None
    page = forum.client().get(f"/articles/{article}").text
    assert "Numbered 50" in page and "Numbered 0<" not in page
    assert 'href="?comments=newest&amp;cpage=2#comments">More comments' in page
    second = forum.client().get(f"/articles/{article}", params={"comments": "newest", "cpage": "2"}).text
    assert "Numbered 0<" in second and "Numbered 50" not in second and "← Previous comments" in second


def test_ids_past_what_the_database_holds_are_refused_not_looked_up(forum: Forum) -> None:
    browser = forum.signup("big_numbers")
    article = forum.article_ids[0]
    page = browser.get(f"/articles/{article}")
    too_big = str(2**70)
    form = browser.post(f"/articles/{article}/comments",
                        data={"csrf": csrf_of(page.text), "body": "Hi", "parent_id": too_big})  # fmt: skip
    assert form.status_code == 400  # the pages' answer to a form that does not validate
    api = forum.api(forum.token_for(browser))
    answer = api.post(f"/api/v1/articles/{article}/comments", json={"body": "Hi", "parent_id": 2**70})
    assert answer.status_code == 422
    revoke = browser.post(f"/account/tokens/{too_big}/revoke", data={"csrf": csrf_of(page.text)})
    assert revoke.status_code == 404
