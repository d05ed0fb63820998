"""`broadsheet user add | list | remove | role | reset | token`: readers' accounts, for the operator."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from broadsheet.clock import utcnow
from broadsheet.commands.common import ago, app, opened, out, print_json
from broadsheet.dates import iso_utc
from broadsheet.errors import AccountError
from broadsheet.readers.names import Role, check_display_name, check_name
from broadsheet.readers.passwords import check_new_password, hash_password
from broadsheet.readers.tokens import LINK_HOURS
from broadsheet.store import Store, User

__all__ = ["add", "list_users", "remove", "reset", "role", "token"]

user_app = typer.Typer(help="Readers' accounts: add, list, remove, change role, sign-in links, API tokens.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(user_app, name="user")

NameArg = Annotated[str, typer.Argument(help="The account's name (sign-in is case-insensitive).")]


def _password(name: str) -> str:
    """The new password: the first line of standard input when it is not a terminal (for scripts), else asked
    for twice without echo."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise AccountError("the two passwords differ: run the command again")
    problem = check_new_password(password, name)
    if problem:
        raise AccountError(
            f"{problem} (the password is read from standard input, or asked for on a terminal)"
        )
    return password


def _user(store: Store, name: str) -> User:
    user = store.accounts.user_by_name(name)
    if user is None:
        raise AccountError(f"there is no account named {name!r}: `broadsheet user list` shows them")
    return user


@user_app.command("add")
def add(
    name: NameArg,
    role: Annotated[
        Role, typer.Option(help="reader, moderator (hides comments, bans) or admin.")
    ] = Role.READER,
    display_name: Annotated[str, typer.Option(help="The name shown beside comments.")] = "",
) -> None:
    """Add an account; its password is read from standard input (or asked for on a terminal)."""
    display_name = display_name.strip()  # as the sign-up form stores it
    problem = check_name(name) or check_display_name(display_name)
    if problem:
        raise AccountError(problem)
    password = _password(name)
    with opened() as (_settings, store):
        user = store.accounts.add_user(name, hash_password(password), role.value, utcnow(), display_name)
    out.print(f"added {user.role} {user.name} (account {user.id})")


@user_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Every account: name, role, when it was made, whether it is banned or locked."""
    with opened() as (_settings, store):
        users = store.accounts.users()
    now = utcnow()
    if as_json:
        print_json([{"id": u.id, "name": u.name, "display_name": u.display_name, "role": u.role,
                     "created_at": iso_utc(u.created_at), "banned": u.banned_at is not None,
                     "locked": u.locked_until is not None and u.locked_until > now} for u in users])  # fmt: skip
        return
    if not users:
        out.print("no accounts yet: add one with `broadsheet user add NAME`")
        return
    table = Table("id", "name", "shown as", "role", "created", "state")
    for u in users:
        state = "banned" if u.banned_at else ("locked" if u.locked_until and u.locked_until > now else "")
        table.add_row(str(u.id), u.name, u.display_name, u.role, ago(u.created_at, now), state)
    out.print(table)


@user_app.command("remove")
def remove(name: NameArg) -> None:
    """Remove an account with its sessions, tokens, comments and votes."""
    with opened() as (_settings, store):
        if not store.accounts.remove_user(name, utcnow()):
            raise AccountError(f"there is no account named {name!r}: `broadsheet user list` shows them")
    out.print(f"removed {name}")


@user_app.command("role")
def role(
    name: NameArg, new_role: Annotated[Role, typer.Argument(help="reader, moderator or admin.")]
) -> None:
    """Change an account's role."""
    with opened() as (_settings, store):
        user = _user(store, name)
        store.accounts.set_role(user.id, new_role.value)
    out.print(f"{user.name} is now {new_role.value}")


@user_app.command("reset")
def reset(name: NameArg) -> None:
    """Print a one-time sign-in link, valid for an hour, where the reader chooses a new password."""
    from broadsheet.web.readers import make_sign_in_link_token  # the web app's modules load only when used

    with opened() as (settings, store):
        user = _user(store, name)
        link = make_sign_in_link_token(store, user.id, utcnow())
    site = settings.base_url or f"http://localhost:{8000}"
    out.print(f"{site}/signin/link/{link}")
    out.print(f"works once, for {LINK_HOURS:g} hour, for {user.name}; give it to them privately", style="dim")


@user_app.command("token")
def token(name: NameArg, label: Annotated[str, typer.Option(help="What it is for.")] = "cli") -> None:
    """Print a new personal API token for the account (`Authorization: Bearer TOKEN`); only its digest is kept."""
    from broadsheet.web.readers import make_api_token  # the web app's modules load only when used

    with opened() as (_settings, store):
        user = _user(store, name)
        value = make_api_token(store, user.id, label, utcnow())
    sys.stdout.write(value + "\n")


@user_app.command("app-password")
def app_password(
    name: NameArg, label: Annotated[str, typer.Option(help="Which app it is for.")] = "an app"
) -> None:
    """Print a new app password for the account: what feed-reader apps (Google Reader, Miniflux and Fever APIs)
    sign in with, beside the account name. Only its digests are kept; revoke it on the account page."""
    from broadsheet.web.apps.common import make_app_password

    with opened() as (_settings, store):
        user = _user(store, name)
        value = make_app_password(store, user, label, utcnow())
    sys.stdout.write(value + "\n")
