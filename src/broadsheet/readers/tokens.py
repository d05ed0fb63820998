"""Secret tokens for sessions, API tokens, app passwords and one-time links, and the hash the store keeps.

Only the hash is stored, so a copy of the database lets no one in; the token itself is shown once, then gone.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["TOKEN_BYTES", "new_token", "token_hash"]

# 256 bits: guessing is hopeless, so a plain (unsalted, fast) hash is enough to keep the stored form useless.
TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    """A fresh random token, `prefix` then 43 URL-safe characters (e.g. "bs_…"); the prefix lets a reader, and a
    secret scanner, tell what a leaked string is."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The form the store keeps and looks tokens up by: sha256 of the token, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
