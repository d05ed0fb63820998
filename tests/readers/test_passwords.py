from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher, Type

from broadsheet.readers.passwords import check_new_password, hash_password, needs_rehash, verify_password

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    started = time.perf_counter()
    password_hash = hash_password(PASSWORD)
    print(f"\nhash_password took {(time.perf_counter() - started) * 1000:.0f} ms")
    return password_hash


def test_a_hash_is_argon2id_with_the_chosen_parameters_and_a_fresh_salt(stored: str) -> None:
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored
    assert hash_password(PASSWORD) != stored


def test_the_right_password_verifies(stored: str) -> None:
    assert verify_password(stored, PASSWORD)


def test_a_wrong_password_does_not(stored: str) -> None:
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(stored, PASSWORD.upper())
    assert not verify_password(stored, "")


@pytest.mark.parametrize(
    "password_hash",
    ["", "not a hash", "$argon2id$garbage", "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB", "$2b$12$" + "a" * 53],
    ids=["empty", "text", "cut short", "bad salt and hash", "bcrypt"],
)
def test_an_empty_or_unreadable_hash_verifies_nothing_and_raises_nothing(password_hash: str) -> None:
    assert verify_password(password_hash, PASSWORD) is False
    assert verify_password(password_hash, "") is False


def test_a_password_typed_in_another_unicode_form_still_verifies() -> None:
    composed, decomposed = "caf\u00e9-au-lait-42", "cafe\u0301-au-lait-42"
    assert verify_password(hash_password(composed), decomposed)


def test_a_hash_made_with_weaker_parameters_needs_rehash_but_still_verifies(stored: str) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    assert verify_password(weaker, PASSWORD)
    assert needs_rehash(weaker)
    assert not needs_rehash(stored)


def test_an_unreadable_hash_needs_rehash_rather_than_raising() -> None:
    assert needs_rehash("")
    assert needs_rehash("not a hash")


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short", "at least 10"),
        ("", "at least 10"),
        ("x" * 1025, "at most 1024"),
        ("Ada_Lovelace", "cannot be your name"),
        ("ada_lovelace", "cannot be your name"),
        ("aaaaaaaaaaaa", "one character repeated"),
    ],
)
def test_check_new_password_says_what_to_change(password: str, says: str) -> None:
    message = check_new_password(password, "Ada_Lovelace")
    assert message is not None
    assert says in message


@pytest.mark.parametrize("password", [PASSWORD, "x" * 1023 + "y", "Ada_Lovelace!", "ééééééééééé-1"])
def test_check_new_password_accepts_a_usable_password(password: str) -> None:
    assert check_new_password(password, "Ada_Lovelace") is None
