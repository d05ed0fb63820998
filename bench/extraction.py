"""Extraction quality and speed: broadsheet's `extract_article` next to trafilatura alone, on real pages.

Reads ../shared/data/extraction-dev (trafilatura's evaluation set) or a directory of NAME.html + NAME.json pages.

    .venv/bin/python bench/extraction.py [--data DIR] [--limit N] [--format auto|evaldata|dir] [--json OUT]

evaldata: snippets that must / must not appear (whitespace-normalised substring match), P/R/F1 pooled over all
snippets, as trafilatura's own evaluation does. dir: ground truth {"url", "body"}; multiset overlap of lowercase
word tokens, pooled over pages. Pages/s is the time spent inside each extractor, one page at a time, the
extractors taking turns page by page so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import trafilatura

from broadsheet.errors import ExtractError
from broadsheet.extract import extract_article
from broadsheet.text import collapse_whitespace

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "extraction-dev"
_TOKEN_RE = re.compile(r"\w+")

Extractor = Callable[[bytes, str], str]


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    html: bytes
    must: tuple[str, ...] = ()  # evaldata "with" snippets
    must_not: tuple[str, ...] = ()  # evaldata "without" snippets
    body: str = ""  # dir ground truth


@dataclass(slots=True)
class Score:
    """Pooled counts; for evaldata they count snippets, for dir they count word tokens."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    seconds: float = 0.0
    pages: int = 0
    failures: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def load_evaldata(data: Path) -> Iterator[Page]:
    items: dict[str, dict[str, Any]] = json.loads((data / "evaldata.json").read_text(encoding="utf-8"))
    for url, item in items.items():
        path = data / "html" / f"{item['file']}.gz"
        if not path.exists():
            path = data / "html" / str(item["file"])
        raw = path.read_bytes()
        html = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        must = tuple(str(s) for s in item.get("with", []))
        must_not = tuple(str(s) for s in item.get("without", []))
        yield Page(url=url, html=html, must=must, must_not=must_not)


def load_dir(data: Path) -> Iterator[Page]:
    for html_path in sorted(data.glob("*.html")):
        truth_path = html_path.with_suffix(".json")
        if not truth_path.exists():
            print(f"note: {html_path.name} has no {truth_path.name}; skipped", file=sys.stderr)
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        yield Page(
            url=str(truth.get("url", "")), html=html_path.read_bytes(), body=str(truth.get("body", ""))
        )


def score_snippets(score: Score, page: Page, text: str) -> None:
    found = collapse_whitespace(text)
    for snippet in page.must:
        if collapse_whitespace(snippet) in found:
            score.tp += 1
        else:
            score.fn += 1
    score.fp += sum(1 for snippet in page.must_not if collapse_whitespace(snippet) in found)


def score_tokens(score: Score, page: Page, text: str) -> None:
    got = Counter(_TOKEN_RE.findall(text.lower()))
    truth = Counter(_TOKEN_RE.findall(page.body.lower()))
    overlap = sum((got & truth).values())
    score.tp += overlap
    score.fp += sum(got.values()) - overlap
    score.fn += sum(truth.values()) - overlap


def trafilatura_alone(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def broadsheet(html: bytes, url: str) -> str:
    try:
        return extract_article(html, url).text
    except ExtractError:
        return ""  # counted as an empty extraction, as trafilatura's None is


def run(pages: list[Page], extractors: dict[str, Extractor], token_scoring: bool) -> dict[str, Score]:
    """Score every extractor on every page; extractors take turns page by page, so load drift hits all alike."""
    scores = {name: Score() for name in extractors}
    for extract in extractors.values():
        extract(pages[0].html, pages[0].url)  # warm-up: first-call imports and caches are not per-page cost
    for page in pages:
        for name, extract in extractors.items():
            score = scores[name]
            start = time.perf_counter()
            text = extract(page.html, page.url)
            score.seconds += time.perf_counter() - start
            score.pages += 1
            score.failures += not text
            (score_tokens if token_scoring else score_snippets)(score, page, text)
    return scores


def print_table(scores: dict[str, Score], unit: str) -> None:
    print(f"{'extractor':<20} {'P':>7} {'R':>7} {'F1':>7} {'pages/s':>9} {'empty':>6}   (pooled over {unit})")
    for name, s in scores.items():
        print(
            f"{name:<20} {s.precision:>7.4f} {s.recall:>7.4f} {s.f1:>7.4f} "
            f"{s.pages_per_second:>9.1f} {s.failures:>6}"
        )
    base, ours = scores.get("trafilatura-alone"), scores.get("broadsheet")
    if base and ours and base.pages_per_second:
        print(
            f"speed ratio broadsheet / trafilatura-alone: {ours.pages_per_second / base.pages_per_second:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"data directory (default {DEFAULT_DATA})"
    )
    parser.add_argument("--limit", type=int, default=0, help="score only the first N pages")
    parser.add_argument("--format", choices=("auto", "evaldata", "dir"), default="auto")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    # Pages trafilatura gives up on are scored as empty; its per-page warnings would drown the table.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    data: Path = args.data.resolve()
    if not data.is_dir():
        print(f"skipped: data not found at {data}")
        return 0
    fmt = (
        args.format if args.format != "auto" else ("evaldata" if (data / "evaldata.json").exists() else "dir")
    )
    pages = list(load_evaldata(data) if fmt == "evaldata" else load_dir(data))
    if args.limit > 0:
        pages = pages[: args.limit]
    if not pages:
        print(f"skipped: no pages found at {data}")
        return 0

    print(f"{len(pages)} pages from {data} ({fmt}), trafilatura {trafilatura.__version__}")
    extractors: dict[str, Extractor] = {"trafilatura-alone": trafilatura_alone, "broadsheet": broadsheet}
    scores = run(pages, extractors, token_scoring=fmt == "dir")
    print_table(scores, "snippets" if fmt == "evaldata" else "word tokens")
    if args.json:
        figures = {
            name: {
                **asdict(s),
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "pages_per_second": s.pages_per_second,
            }
            for name, s in scores.items()
        }
        report = {"data": str(data), "format": fmt, "pages": len(pages), "scores": figures}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
