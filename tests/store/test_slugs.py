"""`broadsheet.slugs.slugify`: URL slugs for outlets and tags."""

from __future__ import annotations

import pytest

from broadsheet.slugs import slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("BBC News", "bbc-news"),
        ("Café & Bar", "cafe-bar"),
        ("  The   Alder-Gazette! ", "the-alder-gazette"),
        ("O'Brien’s Weekly", "obriens-weekly"),
        ("Süddeutsche Straße", "suddeutsche-strasse"),
        ("Ærø Posten", "aero-posten"),
        ("ＢＢＣ　Ｗｏｒｌｄ", "bbc-world"),  # full-width letters and space
        ("snake_case tag", "snake-case-tag"),
        ("Covid-19", "covid-19"),
    ],
)
def test_latin_names_become_lowercase_ascii_slugs(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Новости Дня", "новости-дня"),
        ("हिन्दी समाचार", "हिन्दी-समाचार"),
        ("日本経済新聞", "日本経済新聞"),
        ("Ελλάδα", "ελλάδα"),
    ],
)
def test_other_scripts_are_kept_as_lowercase_letters(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_a_name_without_letters_gets_a_stable_short_hash() -> None:
    assert slugify("!!!") == slugify("!!!")
    assert slugify("!!!").startswith("h-") and len(slugify("!!!")) == 10
    assert slugify("!!!") != slugify("???")
    assert slugify("") != ""


def test_long_names_are_cut_between_words() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= 80 and slug.endswith("word") and "--" not in slug
