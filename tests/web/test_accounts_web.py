"""Readers' accounts over HTTP against a real server, on SQLite and on PostgreSQL: signing up, in and out,
sessions and their cookie, CSRF, lockout and rate limits, one-time links, API tokens, the first admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from readersite import PASSWORD, Forum, csrf_of, forum_site
from website import ADMIN_PASSWORD, running

from broadsheet.readers.tokens import new_token, token_hash
from broadsheet.web import create_app
from broadsheet.web.ratelimit import RateLimit
from broadsheet.web.security import SESSION_COOKIE


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Forum]:
    with forum_site(tmp_path_factory.mktemp("accounts"), module_database_url, login_max_failures=3) as site:
        yield site


def test_a_reader_signs_up_with_a_safe_cookie_and_their_pages_are_never_cached(forum: Forum) -> None:
    browser = forum.client()
    token = csrf_of(browser.get("/signup").text)
    answer = browser.post("/signup", data={"csrf": token, "name": "Ada_L", "password": PASSWORD,
                                           "display_name": "Ada Lovelace", "next": "/outlets"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/outlets"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; behind TLS it is set (test below)

    home = browser.get("/")
    assert 'href="/account">Ada Lovelace</a>' in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "etag" not in home.headers
    # Someone else, not signed in, gets the public page: from the cache, without Ada's name.
    for _ in range(2):
        public = forum.client().get("/")
        assert "Ada Lovelace" not in public.text and 'href="/signin">Sign in</a>' in public.text
    assert "etag" in public.headers

    account = browser.get("/account")
    assert account.status_code == 200 and "Signed in as <strong>Ada_L</strong>" in account.text


def test_behind_tls_the_session_cookie_is_secure(forum: Forum) -> None:
    browser = forum.client()
    token = csrf_of(browser.get("/signup").text)
    tls = {"X-Forwarded-Proto": "https", "Origin": forum.url.replace("http:", "https:")}
    answer = browser.post("/signup", headers=tls,
                          data={"csrf": token, "name": "tls_reader", "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 303
    user = forum.store.accounts.user_by_name("tls_reader")
    assert user is not None
    # uvicorn trusts X-Forwarded-Proto from loopback (its default forwarded_allow_ips), as from a local proxy.
    assert "Secure" in answer.headers["set-cookie"]


def test_signing_out_ends_the_session_on_the_server_not_only_in_the_browser(forum: Forum) -> None:
    browser = forum.signup("leaving")
    session = browser.cookies[SESSION_COOKIE]
    page = browser.get("/account")
    out = browser.post("/signout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert out.headers["clear-site-data"] == '"cache", "storage"'  # the offline copies of their pages go too
    # A copy of the old cookie is worth nothing now.
    thief = forum.client()
    thief.cookies.set(SESSION_COOKIE, session)
    answer = thief.get("/account")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_a_form_without_its_csrf_token_or_from_another_site_is_refused(forum: Forum) -> None:
    browser = forum.signup("careful")
    page = browser.get("/account")
    missing = browser.post("/account/profile", data={"display_name": "Hijacked"})
    assert missing.status_code == 403 and "out of date or came from another site" in missing.text
    elsewhere = browser.post("/account/profile", headers={"Origin": "https://evil.example"},
                             data={"csrf": csrf_of(page.text), "display_name": "Hijacked"})  # fmt: skip
    assert elsewhere.status_code == 403
    # A token made for another identity (the anonymous sign-in page) is no good either.
    anonymous = csrf_of(forum.client().get("/signin").text)
    stolen = browser.post("/account/profile", data={"csrf": anonymous, "display_name": "Hijacked"})
    assert stolen.status_code == 403
    user = forum.store.accounts.user_by_name("careful")
    assert user is not None and user.display_name == ""
    good = browser.post("/account/profile", data={"csrf": csrf_of(page.text), "display_name": "Careful One"})
    assert good.status_code == 303
    user = forum.store.accounts.user_by_name("careful")
    assert user is not None and user.display_name == "Careful One"


def test_names_are_unique_whatever_their_case_and_sign_in_ignores_case(forum: Forum) -> None:
    forum.signup("Grace")
    browser = forum.client()
    token = csrf_of(browser.get("/signup").text)
    clash = browser.post("/signup", data={"csrf": token, "name": "grace", "password": PASSWORD})
    assert clash.status_code == 400 and "taken" in clash.text
    weak = browser.post("/signup", data={"csrf": token, "name": "grace2", "password": "short"})
    assert weak.status_code == 400 and "at least 10 characters" in weak.text
    bad = browser.post("/signup", data={"csrf": token, "name": "<b>x</b>", "password": PASSWORD})
    assert bad.status_code == 400 and "<b>x</b>" not in bad.text
    assert forum.signin("GRACE").status_code == 303


def test_wrong_passwords_lock_the_account_whoever_tries_and_a_wrong_name_says_the_same(forum: Forum) -> None:
    forum.signup("target")
    unknown = forum.signin("nobody_here", "whatever-it-is")
    wrong = forum.signin("target", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong name or password." in unknown.text and "Wrong name or password." in wrong.text
    for _ in range(2):  # login_max_failures=3 for this site
        assert forum.signin("target", "still not it").status_code == 401
    locked = forum.signin("target")  # the right password, from a new browser: refused while locked
    assert locked.status_code == 429 and "locked" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    user = forum.store.accounts.user_by_name("target")
    assert user is not None and user.locked_until is not None


def test_sign_in_attempts_from_one_address_are_rate_limited(forum: Forum) -> None:
    context = forum.app.state.context  # type: ignore[attr-defined]
    saved = context.login_limit
    context.login_limit = RateLimit(1, burst=2)
    try:
        answers = [forum.signin("nobody", "wrong password") for _ in range(3)]
    finally:
        context.login_limit = saved
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert "Too many sign-in attempts" in answers[2].text and "retry-after" in answers[2].headers


def test_the_admin_password_becomes_the_first_admin_account(forum: Forum) -> None:
    answer = forum.signin("admin", ADMIN_PASSWORD)
    assert answer.status_code == 303
    admin = forum.store.accounts.user_by_name("admin")
    assert admin is not None and admin.role == "admin"


def test_a_one_time_link_sets_a_new_password_signs_in_and_is_spent(forum: Forum) -> None:
    browser = forum.signup("forgetful")
    user = forum.store.accounts.user_by_name("forgetful")
    assert user is not None
    link = new_token("bs_l_")
    now = forum.app.state.context.clock()  # type: ignore[attr-defined]
    forum.store.accounts.add_token(user.id, "link", token_hash(link), "reset", now, now + timedelta(hours=1))

    visitor = forum.client()
    page = visitor.get(f"/signin/link/{link}")
    assert page.status_code == 200 and "Sign in as forgetful" in page.text
    # Looking at the link spends nothing (mail scanners fetch links); choosing a password does.
    assert visitor.get(f"/signin/link/{link}").status_code == 200
    answer = visitor.post(
        f"/signin/link/{link}", data={"csrf": csrf_of(page.text), "password": "brand new secret"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/account?changed=password"
    assert "Your password is changed" in visitor.get(answer.headers["location"]).text
    # The old password and the other browser's session are gone; the link is spent.
    assert forum.signin("forgetful").status_code == 401
    assert forum.signin("forgetful", "brand new secret").status_code == 303
    assert browser.get("/account").status_code == 303
    assert visitor.get(f"/signin/link/{link}").status_code == 404


def test_an_api_token_made_on_the_account_page_works_until_revoked(forum: Forum) -> None:
    browser = forum.signup("scripter")
    token = forum.token_for(browser, "my script")
    script = forum.api(token)
    article = forum.article_ids[0]
    posted = script.post(f"/api/v1/articles/{article}/comments", json={"body": "From a script."})
    assert posted.status_code == 201
    account = browser.get("/account")
    assert "my script" in account.text
    assert token not in account.text  # shown once, when made
    token_id = forum.store.accounts.tokens(_user_id(forum, "scripter"), "api")[0].id
    revoked = browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(account.text)})
    assert revoked.status_code == 303
    again = script.post(f"/api/v1/articles/{article}/comments", json={"body": "Again."})
    assert again.status_code == 401


def test_an_app_password_made_on_the_account_page_signs_an_app_in_until_revoked(forum: Forum) -> None:
    browser = forum.signup("appreader")
    account = browser.get("/account")
    assert "App passwords" in account.text and f"<code>{forum.url}</code>" in account.text
    made = browser.post("/account/app-passwords", data={"label": "Reeder", "csrf": csrf_of(account.text)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    password = re.search(r'<code class="new-token">([a-z2-9-]{23})</code>', made.text)
    assert password, made.text
    login = {"Email": "appreader", "Passwd": password.group(1)}
    with httpx.Client(base_url=forum.url, timeout=10) as app:
        assert app.post("/accounts/ClientLogin", data=login).status_code == 200
        again = browser.get("/account")
        assert "Reeder" in again.text and password.group(1) not in again.text  # shown once, when made
        [listed] = forum.store.accounts.tokens(_user_id(forum, "appreader"), "app")
        revoked = browser.post(f"/account/tokens/{listed.id}/revoke", data={"csrf": csrf_of(again.text)})
        assert revoked.status_code == 303
        assert app.post("/accounts/ClientLogin", data=login).status_code == 401
    without = browser.post("/account/app-passwords", data={"label": "no csrf"})
    assert without.status_code == 403


def _user_id(forum: Forum, name: str) -> int:
    user = forum.store.accounts.user_by_name(name)
    assert user is not None
    return user.id


def test_changing_the_password_signs_out_other_browsers(forum: Forum) -> None:
    first = forum.signup("mover")
    second = forum.client()
    token = csrf_of(second.get("/signin").text)
    assert (
        second.post("/signin", data={"csrf": token, "name": "mover", "password": PASSWORD}).status_code == 303
    )
    page = first.get("/account")
    wrong = first.post("/account/password", data={"csrf": csrf_of(page.text), "current": "nope nope nope",
                                                  "password": "another long secret"})  # fmt: skip
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    changed = first.post("/account/password", data={"csrf": csrf_of(page.text), "current": PASSWORD,
                                                    "password": "another long secret"})  # fmt: skip
    assert changed.status_code == 303
    assert first.get("/account").status_code == 200  # this browser has a new session
    assert second.get("/account").status_code == 303  # the other was signed out


def test_sign_ups_can_be_turned_off(forum: Forum) -> None:
    forum.signup("still_here")
    settings = forum.settings.model_copy(update={"signups": False})
    with running(create_app(settings, store=forum.store)) as url, httpx.Client(base_url=url) as client:
        page = client.get("/signup")
        assert page.status_code == 403 and "does not take sign-ups" in page.text
        # Existing readers still sign in.
        token = csrf_of(client.get("/signin").text)
        answer = client.post("/signin", headers={"Origin": url},
                             data={"csrf": token, "name": "still_here", "password": PASSWORD})  # fmt: skip
        assert answer.status_code == 303


def test_a_reader_downloads_their_data_and_deletes_their_account_keeping_others_replies(forum: Forum) -> None:
    leaver = forum.signup("leaver", display_name="Leaving Soon")
    token = forum.token_for(leaver, "exporter")
    article = forum.article_ids[1]
    api = forum.api(token)
    answered = api.post(f"/api/v1/articles/{article}/comments", json={"body": "First words."}).json()
    api.patch(f"/api/v1/comments/{answered['id']}", json={"body": "Better words."})
    alone = api.post(f"/api/v1/articles/{article}/comments", json={"body": "Nobody answers this."}).json()
    replier = forum.api(forum.token_for(forum.signup("replier")))
    reply = replier.post(f"/api/v1/articles/{article}/comments",
                         json={"body": "An answer.", "parent_id": answered["id"]}).json()  # fmt: skip

    data = leaver.get("/account/data.json")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    export = data.json()
    assert export["account"]["name"] == "leaver" and export["account"]["display_name"] == "Leaving Soon"
    first = next(c for c in export["comments"] if c["id"] == answered["id"])
    assert first["body"] == "Better words." and [v["body"] for v in first["earlier_versions"]] == [
        "First words."
    ]
    assert [t["label"] for t in export["tokens"]] == ["exporter"] and token not in data.text
    assert forum.api(token).get("/account/data.json").json()["account"]["name"] == "leaver"  # scripts too

    page = leaver.get("/account")
    wrong = leaver.post("/account/delete", data={"csrf": csrf_of(page.text), "current": "not my password"})
    assert wrong.status_code == 400 and forum.store.accounts.user_by_name("leaver") is not None
    gone = leaver.post("/account/delete", data={"csrf": csrf_of(page.text), "current": PASSWORD})
    assert gone.status_code == 303 and forum.store.accounts.user_by_name("leaver") is None
    thread = forum.api().get(f"/api/v1/articles/{article}/comments").json()["comments"]
    kept = next(c for c in thread if c["id"] == answered["id"])
    assert kept["deleted"] and kept["author"] is None and kept["body"] == ""
    assert [r["id"] for r in kept["replies"]] == [reply["id"]]
    assert alone["id"] not in [c["id"] for c in thread]
    assert "Better words." not in forum.client().get(f"/articles/{article}").text
    assert forum.api(token).get("/account/data.json").status_code == 303  # the token went with the account


def test_staff_names_are_kept_for_the_operator(forum: Forum) -> None:
    browser = forum.client()
    token = csrf_of(browser.get("/signup").text)
    for name in ("Administrator", "moderator", "ROOT"):
        answer = browser.post("/signup", data={"csrf": token, "name": name, "password": PASSWORD})
        assert answer.status_code == 400 and "is kept for the site" in answer.text
        assert forum.store.accounts.user_by_name(name) is None


def test_signing_in_again_ends_the_browsers_old_session(forum: Forum) -> None:
    browser = forum.signup("twice")
    first = browser.cookies[SESSION_COOKIE]
    token = csrf_of(browser.get("/signin").text)
    assert (
        browser.post("/signin", data={"csrf": token, "name": "twice", "password": PASSWORD}).status_code
        == 303
    )
    assert browser.cookies[SESSION_COOKIE] != first
    old = forum.client()
    old.cookies.set(SESSION_COOKIE, first)
    assert old.get("/account").status_code == 303
