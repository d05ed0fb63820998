"""A forgotten password by mail, through the real forms and a real SMTP conversation with a loopback server
(tests/smtpsink.py): a reader keeps an e-mail address on their account, asks for a link by name or by address,
gets it (the same answer whether or not the account exists or has an address), and the link sets a new password
once. Without SMTP the page says to ask the operator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from readersite import PASSWORD, Forum, csrf_of, forum_site

from broadsheet.web.pages.account import FORGOT_SENT
from smtpsink import SmtpSink

LINK = re.compile(r"(http://\S+/signin/link/bs_l_[A-Za-z0-9_-]{43})")


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as found:
        yield found


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[Forum]:
    with forum_site(tmp_path_factory.mktemp("mail"), "", smtp_url=sink.url, smtp_from="News <news@example.org>",
                    site_name="Harbour News") as site:  # fmt: skip
        yield site


def _ask(forum: Forum, who: str) -> str:
    client = forum.client()
    page = client.get("/signin/forgot")
    assert page.status_code == 200 and "Send me a link" in page.text
    answer = client.post("/signin/forgot", data={"who": who, "csrf": csrf_of(page.text)})
    assert answer.status_code == 200
    return answer.text


def test_a_reader_with_an_address_gets_a_link_by_name_or_address_and_it_works_once(
    forum: Forum, sink: SmtpSink
) -> None:
    browser = forum.signup("mailed")
    account = browser.get("/account")
    wrong = browser.post("/account/email", data={"email": "not an address", "csrf": csrf_of(account.text)})
    assert wrong.status_code == 400 and "does not look like an e-mail address" in wrong.text
    saved = browser.post(
        "/account/email", data={"email": "Mailed@Example.ORG", "csrf": csrf_of(account.text)}
    )
    assert saved.status_code == 303
    assert 'value="mailed@example.org"' in browser.get("/account").text
    assert browser.get("/account/data.json").json()["account"]["email"] == "mailed@example.org"

    before = len(sink.messages)
    assert FORGOT_SENT in _ask(forum, "mailed")
    assert FORGOT_SENT in _ask(forum, "MAILED@example.org")  # by address, case ignored
    assert len(sink.messages) == before + 2
    message = sink.messages[-1]
    assert message["To"] == "mailed@example.org" and message["From"] == "News <news@example.org>"
    assert message["Subject"] == "Your sign-in link for Harbour News"
    assert sink.envelopes[-1][1] == ["<mailed@example.org>"]
    found = LINK.search(message.get_content())
    assert found and found.group(1).startswith(forum.url)

    # The link shows a form; the form sets the password and signs in; the link is spent.
    reader = forum.client()
    form = reader.get(found.group(1))
    assert form.status_code == 200
    done = reader.post(found.group(1), data={"password": "a brand new password", "csrf": csrf_of(form.text)})
    assert done.status_code == 303
    assert forum.signin("mailed", "a brand new password").status_code == 303
    assert forum.signin("mailed", PASSWORD).status_code != 303
    assert reader.get(found.group(1)).status_code == 404


def test_nobody_and_no_address_get_the_same_answer_and_no_mail(forum: Forum, sink: SmtpSink) -> None:
    forum.signup("unmailed")  # no address on the account
    before = len(sink.messages)
    for who in ("unmailed", "nobody-at-all", "ghost@example.org"):
        assert FORGOT_SENT in _ask(forum, who)
    assert len(sink.messages) == before


def test_without_smtp_the_page_says_to_ask_the_operator(tmp_path: Path) -> None:
    with forum_site(tmp_path, "") as site:
        page = site.client().get("/signin/forgot")
        assert page.status_code == 200 and "This site sends no mail" in page.text
        assert "broadsheet user reset NAME" in page.text and "Send me a link" not in page.text
        assert 'href="/signin/forgot"' in site.client().get("/signin").text
