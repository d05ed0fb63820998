"""Reader names, display names and roles: what a name may be, the key that makes names unique regardless of case,
and which roles moderate. Storing and looking up names is the store's."""

from __future__ import annotations

import re
from enum import StrEnum

from broadsheet.text import has_hidden_characters

__all__ = [
    "MAX_DISPLAY_NAME",
    "MAX_EMAIL",
    "MAX_NAME",
    "MIN_NAME",
    "Role",
    "can_moderate",
    "check_display_name",
    "check_email",
    "check_name",
    "name_key",
]

MIN_NAME = 3
MAX_NAME = 32
MAX_DISPLAY_NAME = 60

# ASCII only: names are identities (sign-in, mentions, /u/<name> in URLs), and outside ASCII two names can look
# the same and differ ("аdmin" with a Cyrillic "а"), or fold together unexpectedly ("ſam" casefolds to "sam").
# Display names, which identify no one, may use any script. No re.IGNORECASE: it lets [a-z] match the Kelvin sign.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_START = re.compile(r"[A-Za-z0-9]")


class Role(StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    ADMIN = "admin"


def can_moderate(role: str) -> bool:
    """Moderators and admins hide comments, resolve reports and ban readers; an unknown role cannot."""
    return role in (Role.MODERATOR, Role.ADMIN)


def check_name(name: str) -> str | None:
    """Why `name` cannot be a reader's name, in words the reader can act on; None when it can."""
    if not MIN_NAME <= len(name) <= MAX_NAME:
        return f"A name needs {MIN_NAME} to {MAX_NAME} characters; {name!r} has {len(name)}."
    if not _START.match(name):
        return f"A name starts with a letter or a digit; {name!r} does not."
    if not _NAME.fullmatch(name):
        return (
            f"A name may use only letters A to Z, digits and _ . - (no spaces or accents); {name!r} does not."
        )
    return None


def name_key(name: str) -> str:
    """The form that makes names unique and sign-in case-insensitive: "Ada_L" and "ADA_l" are both "ada_l"."""
    return name.casefold()


def check_display_name(display_name: str) -> str | None:
    """Why `display_name` (stripped, as it will be stored) cannot be shown beside comments; None when it can.
    An empty one is fine: the name is shown instead."""
    text = display_name.strip()
    if len(text) > MAX_DISPLAY_NAME:
        return f"A display name has at most {MAX_DISPLAY_NAME} characters; this one has {len(text)}."
    if has_hidden_characters(text):
        return "A display name cannot contain control characters or invisible formatting characters."
    return None


MAX_EMAIL = 254  # RFC 5321's limit on a path
_EMAIL = re.compile(
    r"[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def check_email(email: str) -> str | None:
    """Why `email` cannot take sign-in links; None when it can ('' is fine: no address). Deliberately plain:
    one local part, an @, a domain with a dot; no display names, comments or quoted strings (nothing that
    could smuggle a second recipient or a header into a message)."""
    text = email.strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL:
        return f"An e-mail address has at most {MAX_EMAIL} characters."
    if not _EMAIL.fullmatch(text):
        return f"{text!r} does not look like an e-mail address (name@example.org)."
    return None
