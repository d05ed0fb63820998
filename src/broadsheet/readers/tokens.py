"""Secret tokens for sessions, API tokens, app passwords and one-time links, and the hash the store keeps.

Only the hash is stored, so a copy of the database lets no one in; the token itself is shown once, then gone.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["LINK_HOURS", "TOKEN_BYTES", "fever_key", "new_app_password", "new_token", "token_hash"]

LINK_HOURS = 1.0  # how long a one-time sign-in link works

# 256 bits: guessing is hopeless, so a plain (unsalted, fast) hash is enough to keep the stored form useless.
TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    """A fresh random token, `prefix` then 43 URL-safe characters (e.g. "bs_…"); the prefix lets a reader, and a
    secret scanner, tell what a leaked string is."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The form the store keeps and looks tokens up by: sha256 of the token, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# App passwords are typed into phone apps: 20 characters from an alphabet with no look-alikes (no 0/o, 1/l/i),
# in groups of five. 31 symbols, 99 bits: as unguessable as the other tokens need to be.
_APP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_app_password() -> str:
    """A fresh app password, e.g. "k7vq2-mx9ar-tw3np-c8hdy"."""
    letters = "".join(secrets.choice(_APP_ALPHABET) for _ in range(20))
    return "-".join(letters[i : i + 5] for i in range(0, 20, 5))


def fever_key(name: str, password: str) -> str:
    """The Fever API's key for an account: md5 of "name:password", in hex, as Fever clients compute it. md5 is
    the protocol's, not a choice: the store keeps only `token_hash` of it."""
    return hashlib.md5(f"{name}:{password}".encode(), usedforsecurity=False).hexdigest()
