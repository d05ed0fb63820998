from __future__ import annotations

import pytest

from broadsheet.readers.names import Role, can_moderate, check_display_name, check_name, name_key


@pytest.mark.parametrize("name", ["Ada_L", "ada", "x9z", "7th.reader", "a-b-c", "A" * 32])
def test_check_name_accepts_ascii_names_of_3_to_32(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("ab", "3 to 32"),
        ("a" * 33, "3 to 32"),
        ("", "3 to 32"),
        ("_ada", "starts with a letter or a digit"),
        (".ada", "starts with a letter or a digit"),
        ("ada lovelace", "only letters A to Z"),
        ("ada@home", "only letters A to Z"),
        ("ada\n", "only letters A to Z"),
        ("José", "only letters A to Z"),
        ("\u0430dmin", "starts with a letter or a digit"),  # Cyrillic а: looks like "admin"
        ("adm\u0456n", "only letters A to Z"),  # Cyrillic і
        ("\u212aate", "starts with a letter or a digit"),  # Kelvin sign, which casefolds to "k"
        ("sa\u017fe", "only letters A to Z"),  # long s, which casefolds to "s"
        ("ad\u200bmin", "only letters A to Z"),  # zero-width space
    ],
)
def test_check_name_refuses_with_a_reason(name: str, says: str) -> None:
    message = check_name(name)
    assert message is not None
    assert says in message


def test_name_key_makes_names_differing_only_in_case_the_same() -> None:
    assert name_key("ADA") == name_key("ada") == name_key("Ada") == "ada"
    assert name_key("Ada_L") == "ada_l"
    assert name_key("ada") != name_key("ada_")


@pytest.mark.parametrize(
    "display", ["", "Ada Lovelace", "  Ada  ", "李小龙", "Zoë 👩‍👩‍👧", "x" * 60, " " + "x" * 60 + " "]
)
def test_check_display_name_accepts_free_text_up_to_60(display: str) -> None:
    assert check_display_name(display) is None


@pytest.mark.parametrize(
    ("display", "says"),
    [
        ("x" * 61, "at most 60"),
        ("Ada\nLovelace", "control"),
        ("Ada\x00", "control"),
        ("Ada \u202eecalevol", "control"),  # right-to-left override: reverses the text after it
        ("Ada\u2028Lovelace", "control"),  # line separator
    ],
)
def test_check_display_name_refuses_with_a_reason(display: str, says: str) -> None:
    message = check_display_name(display)
    assert message is not None
    assert says in message


def test_roles_are_their_stored_strings_and_only_moderators_and_admins_moderate() -> None:
    assert [role.value for role in Role] == ["reader", "moderator", "admin"]
    assert Role("moderator") is Role.MODERATOR
    assert not can_moderate(Role.READER)
    assert can_moderate(Role.MODERATOR)
    assert can_moderate("admin")
    assert not can_moderate("")
