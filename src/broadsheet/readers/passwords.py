"""Password hashing (argon2id) and the rules for a new password.

Owns the hash parameters and what a good-enough password is; where hashes are stored and how often sign-in may be
tried (lockout) belong to the store and the web tier.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "check_new_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD = 10
# Argon2's cost does not grow with the password (it is hashed to 64 bytes first); the cap bounds what one
# sign-in form may send, and no one types a longer password.
MAX_PASSWORD = 1024

# OWASP's argon2id parameters (19 MiB, t=2, p=1): some 35 ms of one core here (t=3 with 64 MiB took 200-265
# ms, so a burst of eight sign-ins would hold a two-core server for two seconds). parallelism=1 because the
# server's cores serve concurrent sign-ins rather than one hash. Hashes made with other parameters are made
# again at the next sign-in (`needs_rehash`). `pytest -s tests/readers/test_passwords.py` prints what a hash
# costs; measure before changing these.
_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


def _normal(password: str) -> str:
    # NFKC (as NIST SP 800-63B advises): "é" typed as one character or as e + accent, or a full-width letter from
    # a phone keyboard, is the same password on every device.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """`password`'s argon2id hash as a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$…"), salted afresh each call."""
    return _HASHER.hash(_normal(password))


@cache
def _dummy_hash() -> str:
    # Made on first need, not at import: the CLI imports this module and should not pay for a hash it never uses.
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` is the one `password_hash` was made from. False on a mismatch, and on an empty or
    unreadable hash (a reader without a password, or no such reader: pass ""), which cost one argon2 verification
    all the same, so that the time a refusal takes does not tell whether the name exists or has a password."""
    readable = password_hash.startswith("$argon2")
    try:
        matches = _HASHER.verify(password_hash if readable else _dummy_hash(), _normal(password))
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False
    return matches and readable


def needs_rehash(password_hash: str) -> bool:
    """True when `password_hash` was not made with today's parameters (weaker ones, another argon2 variant, or it
    cannot be read): after a successful sign-in, store a fresh `hash_password` of the password just checked."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_new_password(password: str, name: str) -> str | None:
    """Why `password` cannot be the password of the reader called `name`, in words they can act on; None when
    it can."""
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters; this one has {len(password)}."
    text = _normal(password)
    if len(text) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters; this one has {len(text)}."
    if text.casefold() == _normal(name).casefold():
        return "A password cannot be your name: choose something only you know."
    if len(set(text)) == 1:
        return "A password cannot be one character repeated: choose something harder to guess."
    return None
