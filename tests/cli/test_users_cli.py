"""`broadsheet user ...` through the real entry point, on SQLite and on PostgreSQL: adding accounts with the
password on standard input, listing them, refusals, roles, API tokens that the web app accepts, one-time
sign-in links, removing accounts."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from clirun import CliResult, open_store

from broadsheet.clock import utcnow
from broadsheet.config import load_settings
from broadsheet.readers.passwords import verify_password
from broadsheet.readers.tokens import token_hash
from broadsheet.web import create_app

# tests/web is not a package: its server helper is imported through `tests`, which is on the path.
from web.website import running

Cli = Callable[..., CliResult]
Typed = Callable[[str], None]

PASSWORD = "a long enough secret"
LINK = re.compile(r"(?P<site>\S+)/signin/link/(?P<token>bs_l_[A-Za-z0-9_-]{43})")


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Typed:
    """What the next command reads from standard input, as when a script pipes a password in."""

    def type_in(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    return type_in


def _home(tmp_path: Path) -> Path:
    return tmp_path / "home"  # where the `cli` fixture points --home


def _accounts(cli: Cli) -> list[dict[str, object]]:
    listed = cli("user", "list", "--json")
    assert listed.code == 0, listed.err
    accounts: list[dict[str, object]] = json.loads(listed.out)
    return accounts


def test_accounts_are_added_with_the_password_from_stdin_and_listed(
    cli: Cli, typed: Typed, cli_env: dict[str, str], tmp_path: Path
) -> None:
    empty = cli("user", "list")
    assert empty.code == 0 and "no accounts yet" in empty.out and "broadsheet user add" in empty.out
    assert _accounts(cli) == []

    typed(PASSWORD + "\nthe second line is not the password\n")
    added = cli("user", "add", "Ada_L", "--display-name", "Ada Lovelace")
    assert added.code == 0, added.err
    assert added.out.strip() == "added reader Ada_L (account 1)"
    typed(PASSWORD + "\r\n")
    moderator = cli("user", "add", "mod.erator", "--role", "moderator")
    assert moderator.code == 0, moderator.err
    assert "added moderator mod.erator" in moderator.out

    table = cli("user", "list").out
    assert "Ada_L" in table and "Ada Lovelace" in table and "mod.erator" in table and "moderator" in table
    accounts = _accounts(cli)
    assert [(a["name"], a["display_name"], a["role"]) for a in accounts] == [
        ("Ada_L", "Ada Lovelace", "reader"),
        ("mod.erator", "", "moderator"),
    ]
    assert all(a["banned"] is False and a["locked"] is False for a in accounts)
    assert all(str(a["created_at"]).endswith("Z") for a in accounts)
    with open_store(cli_env, _home(tmp_path)) as store:
        ada = store.accounts.user_by_name("ada_l")  # sign-in ignores case
        assert ada is not None and ada.name == "Ada_L"
        # The first line only, without its line ending, is the password.
        assert verify_password(ada.password_hash, PASSWORD)
        moderator_user = store.accounts.user_by_name("MOD.ERATOR")
        assert moderator_user is not None and verify_password(moderator_user.password_hash, PASSWORD)


def test_refusals_say_what_is_wrong_and_exit_1(cli: Cli, typed: Typed) -> None:
    typed(PASSWORD + "\n")
    assert cli("user", "add", "Grace").code == 0

    refusals = [
        (("bad name",), PASSWORD, "letters A to Z, digits and _ . -"),
        (("ab",), PASSWORD, "A name needs 3 to 32 characters; 'ab' has 2."),
        (("_grace",), PASSWORD, "starts with a letter or a digit"),
        (("Hopper",), "short", "A password needs at least 10 characters; this one has 5."),
        (("Hopper",), "", "read from standard input"),
        (("Hopper12345",), "hopper12345", "cannot be your name"),
        (("grace",), PASSWORD, "the name 'grace' is taken: choose another"),
        (("GRACE",), PASSWORD, "is taken"),
        (("Hopper", "--display-name", "Bidi \u202eevil"), PASSWORD, "control characters"),
    ]
    for args, password, message in refusals:
        typed(password + "\n")
        result = cli("user", "add", *args)
        assert result.code == 1, (args, result.out)
        assert result.err.startswith("error: ") and message in result.err, (args, result.err)
    bad_role = cli("user", "add", "Hopper", "--role", "overlord")
    assert bad_role.code != 0 and "overlord" in bad_role.err
    for command in (
        ("role", "nobody", "admin"),
        ("reset", "nobody"),
        ("token", "nobody"),
        ("remove", "nobody"),
    ):
        missing = cli("user", *command)
        assert missing.code == 1, command
        assert "there is no account named 'nobody'" in missing.err and "user list" in missing.err, command
        assert missing.out == "", command  # a token or link for no one is never printed
    assert [a["name"] for a in _accounts(cli)] == ["Grace"]


def test_a_cli_token_signs_in_to_the_web_app_follows_role_changes_and_dies_with_its_account(
    cli: Cli, typed: Typed, cli_env: dict[str, str], tmp_path: Path
) -> None:
    typed(PASSWORD + "\n")
    assert cli("user", "add", "scripter").code == 0
    made = cli("user", "token", "SCRIPTER", "--label", "nightly job")
    assert made.code == 0, made.err
    token = made.out.strip()
    assert made.out == token + "\n" and re.fullmatch(r"bs_[A-Za-z0-9_-]{43}", token)  # the token alone
    home = _home(tmp_path)
    with open_store(cli_env, home) as store:
        scripter = store.accounts.user_by_name("scripter")
        assert scripter is not None
        [listed] = store.accounts.tokens(scripter.id, "api")
        assert listed.label == "nightly job"
        app = create_app(load_settings(home), store=store, scheduler=False)
        with running(app) as url:
            hide = "/api/v1/comments/999999/hide"  # readers may not hide; moderators learn it does not exist
            with httpx.Client(base_url=url, timeout=10) as anonymous:
                assert anonymous.post(hide).status_code == 401
                wrong = anonymous.post(hide, headers={"Authorization": f"Bearer {token}x"})
                assert wrong.status_code == 401
            with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as api:
                as_reader = api.post(hide)
                assert as_reader.status_code == 403, as_reader.text
                assert "Only moderators" in as_reader.json()["error"]["message"]

                promoted = cli("user", "role", "Scripter", "admin")
                assert promoted.code == 0 and promoted.out.strip() == "scripter is now admin"
                as_admin = api.post(hide)
                assert (
                    as_admin.status_code == 404 and "no such comment" in as_admin.json()["error"]["message"]
                )
                assert [a["role"] for a in _accounts(cli)] == ["admin"]

                removed = cli("user", "remove", "scripter")
                assert removed.code == 0 and "removed scripter" in removed.out
                assert api.post(hide).status_code == 401  # its tokens went with it
        assert store.accounts.token_user(token_hash(token), "api", utcnow()) is None
    assert _accounts(cli) == []
    again = cli("user", "remove", "scripter")
    assert again.code == 1 and "there is no account named 'scripter'" in again.err


def test_reset_prints_a_one_time_link_that_works_once(
    cli: Cli, typed: Typed, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed(PASSWORD + "\n")
    assert cli("user", "add", "Forgetful").code == 0
    laptop = cli("user", "reset", "forgetful")
    assert laptop.code == 0, laptop.err
    found = LINK.fullmatch(laptop.out.splitlines()[0])  # the link alone on its line, whole
    assert found is not None and found["site"] == "http://localhost:8000"
    assert "works once" in laptop.out and "Forgetful" in laptop.out

    monkeypatch.setenv("BROADSHEET_BASE_URL", "https://news.example.org/")
    served = cli("user", "reset", "Forgetful")
    assert served.code == 0, served.err
    link = LINK.fullmatch(served.out.splitlines()[0])
    assert link is not None and link["site"] == "https://news.example.org"
    assert link["token"] != found["token"]

    digest = token_hash(link["token"])
    with open_store(cli_env, _home(tmp_path)) as store:
        now = utcnow()
        assert store.accounts.token_user(digest, "api", now) is None  # a link is not an API token
        looked = store.accounts.token_user(digest, "link", now)
        assert looked is not None and looked.name == "Forgetful"
        assert store.accounts.token_user(digest, "link", now) is not None  # looking spends nothing
        spent = store.accounts.spend_link(digest, now)
        assert spent is not None and spent.name == "Forgetful"
        assert store.accounts.spend_link(digest, now) is None
        assert store.accounts.token_user(digest, "link", now) is None
        # The other link is a token of its own, still unspent.
        assert store.accounts.token_user(token_hash(found["token"]), "link", now) is not None


def test_user_list_shows_a_display_name_with_square_brackets_as_typed(cli: Cli, typed: Typed) -> None:
    # Display names are the readers' own (the sign-up form takes any printable text): the operator's listing
    # prints them as they are, not as console markup.
    typed(PASSWORD + "\n")
    assert cli("user", "add", "bracketed", "--display-name", "[bold]B[/bold] [/x] Closer").code == 0
    listed = cli("user", "list")
    assert listed.code == 0 and "[bold]B[/bold] [/x] Closer" in listed.out


def test_a_refused_name_with_square_brackets_is_quoted_as_typed(cli: Cli, typed: Typed) -> None:
    for name in ("[admin]", "[/x]"):
        typed(PASSWORD + "\n")
        refused = cli("user", "add", name)
        assert refused.code == 1 and f"{name!r} does not" in refused.err, refused.err


def test_a_display_name_is_stored_stripped_as_the_sign_up_form_stores_it(cli: Cli, typed: Typed) -> None:
    # Checked stripped, so stored stripped: a display name of spaces alone would show as a blank author.
    for name, shown in (("spacey", "  Spacey  "), ("blank", "   ")):
        typed(PASSWORD + "\n")
        assert cli("user", "add", name, "--display-name", shown).code == 0
    assert {a["name"]: a["display_name"] for a in _accounts(cli)} == {"blank": "", "spacey": "Spacey"}


def test_an_app_password_from_the_cli_signs_apps_in_with_the_account_name_and_is_revocable(
    cli: Cli, typed: Typed, cli_env: dict[str, str], tmp_path: Path
) -> None:
    typed(PASSWORD + "\n")
    assert cli("user", "add", "Reeda").code == 0
    made = cli("user", "app-password", "reeda", "--label", "Reeder on my phone")
    assert made.code == 0, made.err
    password = made.out.strip()
    assert re.fullmatch(r"([a-z2-9]{5}-){3}[a-z2-9]{5}", password)  # typeable: no 0/o, 1/l/i
    assert cli("user", "app-password", "nobody").code != 0
    home = _home(tmp_path)
    with open_store(cli_env, home) as store:
        reeda = store.accounts.user_by_name("reeda")
        assert reeda is not None
        [listed] = store.accounts.tokens(reeda.id, "app")
        assert listed.label == "Reeder on my phone"
        app = create_app(load_settings(home), store=store, scheduler=False)
        with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
            login = {"Email": "Reeda", "Passwd": password}
            assert web.post("/accounts/ClientLogin", data=login).status_code == 200
            fever = hashlib.md5(f"Reeda:{password}".encode()).hexdigest()
            assert web.post("/fever/?api", data={"api_key": fever}).json()["auth"] == 1
            # an app password is no account password, and no API token for the JSON API
            assert web.post("/signin", data={"name": "reeda", "password": password}).status_code != 303
            assert (
                web.get("/api/v1/me/follows", headers={"Authorization": f"Bearer {password}"}).status_code
                == 401
            )
            store.accounts.revoke_token(reeda.id, listed.id)
            assert web.post("/accounts/ClientLogin", data=login).status_code == 401
            assert web.post("/fever/?api", data={"api_key": fever}).json()["auth"] == 0
