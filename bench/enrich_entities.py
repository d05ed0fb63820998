"""Named entities: quality on CoNLL-2003 English and speed on real-length news articles.

Reads ../shared/data (ai-dev/conll2003_en/{dev,heldout}.jsonl, ai-dev/cnn_dailymail/dev.jsonl); prints "skipped"
when they are absent. CoNLL is research-licensed: it is read from there, never copied.

    .venv/bin/python bench/enrich_entities.py [--data DIR] [--split dev|heldout] [--limit N]

- Each CoNLL document is an article: its first sentence (the headline) the title, the other sentences one per
  line the text, tokens spaced the way running text is ("Leicestershire's", "(Sweden)").
- Types: person = PER, organisation = ORG, place = LOC; spaCy's labels map as in `entities.TYPE_OF_LABEL`
  (PERSON, ORG, GPE/LOC/FAC; NORP, EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE are "other", like MISC not
  scored; numbers and dates are dropped).
- Set F1: per document the set {(name_key(name), type)} of PER/ORG/LOC entities, where the gold mentions are
  folded by the same `fold_names` as ours ("Simmons" and "Phil Simmons" one entity); micro over all documents'
  entities, and the mean of per-document F1 (macro). Span F1: exact character span and type of each mention.
- Rows: spaCy alone (its entities folded the same way, no other rule), ours on the whole text, ours as shipped
  (title + lead of N words + the later sentences that name something new), and ours on the title + lead of N
  words only (later mentions of names found there are still counted).
- Speed: `EntityRecogniser.entities` on CNN/DM articles in batches of 64, best of three passes, one process,
  with one thread and with the default threads;
  "top-5 kept" is the share of each article's five most mentioned entities (whole-text run) that the lead run
  also finds. RSS: peak before and after loading the model.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadsheet.enrich.entities import (
    DEFAULT_MODEL,
    LEAD_WORDS,
    TYPE_OF_LABEL,
    EntityRecogniser,
    article_text,
    load_recogniser,
)
from broadsheet.enrich.entity_names import fold_names, name_key

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
CONLL = {"dev": Path("ai-dev/conll2003_en/dev.jsonl"), "heldout": Path("ai-dev/conll2003_en/heldout.jsonl")}
CNN = Path("ai-dev/cnn_dailymail/dev.jsonl")
SCORED = {"person": "PER", "organisation": "ORG", "place": "LOC"}
GOLD_TYPE = {"PER": "person", "ORG": "organisation", "LOC": "place", "MISC": "other"}
# (lead words, selective): the whole text, the default, plain leads
LEADS: tuple[tuple[int | None, bool], ...] = (
    (None, False),
    (LEAD_WORDS, True),
    (800, False),
    (400, False),
    (150, False),
)
NO_SPACE_BEFORE = frozenset((",", ".", ";", ":", ")", "]", "'s", "'S", "n't", "%", "?", "!", "'"))
NO_SPACE_AFTER = frozenset(("(", "[", "$"))

Span = tuple[int, int, str]  # start, end, CoNLL type (PER, ORG, LOC, or anything else: not scored)


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    text: str
    gold: list[Span]  # offsets into article_text(title, text)


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def spaced(tokens: Sequence[str]) -> tuple[str, list[int]]:
    """The tokens as running text, and where each starts."""
    text, starts, quoted = "", [], False
    for i, token in enumerate(tokens):
        space = i > 0 and token not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER
        if token == '"':
            space = space and not quoted
            quoted = not quoted
        elif i > 0 and tokens[i - 1] == '"' and quoted:
            space = False
        text += " " if space else ""
        starts.append(len(text))
        text += token
    return text, starts


def load_conll(path: Path, limit: int | None) -> list[Document]:
    by_document: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in read_jsonl(path):
        by_document[row["doc"]].append(row)
    documents = []
    for rows in list(by_document.values())[:limit]:
        lines = [spaced(row["tokens"]) for row in rows]
        title, text = lines[0][0], "\n".join(line for line, _ in lines[1:])
        full = article_text(title, text)
        gold: list[Span] = []
        at = 0
        for row, (line, starts) in zip(rows, lines, strict=True):
            at = full.index(line, at)
            gold.extend(_spans(row["tokens"], row["tags"], [at + start for start in starts]))
            at += len(line)
        documents.append(Document(title, text, gold))
    return documents


def _spans(tokens: Sequence[str], tags: Sequence[str], starts: Sequence[int]) -> list[Span]:
    """Entity spans from IOB2 tags."""
    spans: list[Span] = []
    for token, tag, start in zip(tokens, tags, starts, strict=True):
        if tag.startswith("B-"):
            spans.append((start, start + len(token), tag[2:]))
        elif tag.startswith("I-") and spans:
            spans[-1] = (spans[-1][0], start + len(token), spans[-1][2])
    return spans


def entity_set(text: str, spans: Iterable[Span]) -> set[tuple[str, str]]:
    """The document's PER/ORG/LOC entities after folding its mentions."""
    names = [(" ".join(text[s:e].split()), GOLD_TYPE.get(t, "other"), 1) for s, e, t in spans]
    folded, _ = fold_names(names)
    return {(name_key(f.name), SCORED[f.type]) for f in folded if f.type in SCORED}


class Tally:
    """True positives, false positives and false negatives per type."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.per_document: list[float] = []

    def add(self, gold: set[tuple[Any, ...]], found: set[tuple[Any, ...]]) -> None:
        for kind in SCORED.values():
            g = {x for x in gold if x[-1] == kind}
            f = {x for x in found if x[-1] == kind}
            self.counts[kind, "tp"] += len(g & f)
            self.counts[kind, "fp"] += len(f - g)
            self.counts[kind, "fn"] += len(g - f)
        self.per_document.append(
            _f1(len(gold & found), len(found - gold), len(gold - found)) if gold | found else 1.0
        )

    def f1(self, kind: str | None = None) -> float:
        kinds = [kind] if kind else list(SCORED.values())
        return _f1(*(sum(self.counts[k, part] for k in kinds) for part in ("tp", "fp", "fn")))

    def macro(self) -> float:
        return sum(self.per_document) / max(len(self.per_document), 1)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score(documents: Sequence[Document], found: Sequence[Sequence[Span]]) -> dict[str, float]:
    sets, spans = Tally(), Tally()
    for document, mentions in zip(documents, found, strict=True):
        text = article_text(document.title, document.text)
        sets.add(entity_set(text, document.gold), entity_set(text, mentions))
        spans.add(
            {s for s in document.gold if s[2] in SCORED.values()},
            {s for s in mentions if s[2] in SCORED.values()},
        )
    row = {"set": sets.f1(), "set_macro": sets.macro(), "span": spans.f1()}
    for kind in SCORED.values():
        row[f"set_{kind}"] = sets.f1(kind)
        row[f"span_{kind}"] = spans.f1(kind)
    return row


def spacy_alone(recogniser: EntityRecogniser, documents: Sequence[Document]) -> list[list[Span]]:
    nlp = recogniser.nlp
    texts = [article_text(d.title, d.text) for d in documents]
    return [
        [(e.start_char, e.end_char, SCORED.get(TYPE_OF_LABEL.get(e.label_, ""), "")) for e in parsed.ents]
        for parsed in nlp.pipe(texts, batch_size=64)
    ]


def ours(recogniser: EntityRecogniser, documents: Sequence[Document]) -> list[list[Span]]:
    found = recogniser.mentions([(d.title, d.text, "en") for d in documents])
    return [[(m.start, m.end, SCORED.get(m.type, "")) for m in mentions] for mentions in found]


def speed(recogniser: EntityRecogniser, articles: Sequence[tuple[str, str, str]]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for i in range(0, len(articles), 64):
            recogniser.entities(articles[i : i + 64])
        best = min(best, time.perf_counter() - started)
    return len(articles) / best


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=sorted(CONLL), default="dev")
    parser.add_argument(
        "--limit", type=int, default=None, help="CoNLL documents and CNN/DM articles (default: all)"
    )
    args = parser.parse_args(argv)
    missing = [str(args.data / p) for p in (CONLL[args.split], CNN) if not (args.data / p).exists()]
    if missing:
        print(f"skipped: data not found: {', '.join(missing)}")
        return 0

    import spacy  # noqa: F401  (imported before measuring, so that the model's own memory shows)

    before = peak_rss_mib()
    started = time.perf_counter()
    whole_text = load_recogniser(lead_words=None)
    loaded = time.perf_counter() - started
    after = peak_rss_mib()
    nlp = whole_text.nlp
    recognisers = {
        setting: EntityRecogniser(nlp, DEFAULT_MODEL, setting[0], selective=setting[1]) for setting in LEADS
    }
    default = recognisers[LEAD_WORDS, True]
    print(f"model {default.name}: loaded in {loaded:.1f} s, RSS {before:.0f} -> {after:.0f} MiB")

    documents = load_conll(args.data / CONLL[args.split], args.limit)
    print(f"\nCoNLL-2003 {args.split}, {len(documents)} documents; F1 (micro unless marked)")
    kinds = list(SCORED.values())
    header = "".join(f"{'set ' + k:>9}" for k in kinds) + "".join(f"{'span ' + k:>10}" for k in kinds)
    print(f"{'':38}{'set':>7}{'macro':>7}{header}{'span':>7}")
    rows = {"spaCy alone, whole text": spacy_alone(whole_text, documents)}
    rows.update({_label(setting): ours(recognisers[setting], documents) for setting in LEADS})
    for label, found in rows.items():
        r = score(documents, found)
        cells = "".join(f"{r['set_' + k]:>9.3f}" for k in kinds) + "".join(
            f"{r['span_' + k]:>10.3f}" for k in kinds
        )
        print(f"{label:38}{r['set']:>7.3f}{r['set_macro']:>7.3f}{cells}{r['span']:>7.3f}")

    articles = [("", row["article"], "en") for row in read_jsonl(args.data / CNN)][: args.limit]
    words = sum(len(text.split()) for _, text, _ in articles) / max(len(articles), 1)
    whole = whole_text.entities(articles)
    print(f"\nspeed on {len(articles)} CNN/DM articles ({words:.0f} words on average), batches of 64:")
    print(f"  {'':38}{'1 thread':>22}{f'{default.threads} threads':>22}  top-5 kept")
    for setting in LEADS:
        recogniser = recognisers[setting]
        rates = []
        for threads in (1, default.threads):
            recogniser.threads = threads
            rates.append(speed(recogniser, articles))
        kept = _top_kept(whole, recogniser.entities(articles))
        cells = "".join(f"{rate:8.1f}/s {1000 / rate:5.1f} ms" for rate in rates)
        print(f"  {_label(setting):38}{cells}  {kept:.3f}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0


def _label(setting: tuple[int | None, bool]) -> str:
    lead, selective = setting
    if lead is None:
        return "ours, whole text"
    return f"ours, title + {lead} words" + (" + new names" if selective else "")


def _top_kept(whole: Sequence[Sequence[Any]], lead: Sequence[Sequence[Any]]) -> float:
    kept = total = 0
    for reference, found in zip(whole, lead, strict=True):
        keys = {name_key(e.name) for e in found}
        for entity in reference[:5]:
            total += 1
            kept += name_key(entity.name) in keys
    return kept / max(total, 1)


if __name__ == "__main__":
    sys.exit(main())
