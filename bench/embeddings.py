"""Embedding speed and fidelity: sentence-transformers fp32 next to broadsheet's ONNX fp32 and int8, on real news.

Reads ../shared/data/clustering-dev (ecbplus_dev.jsonl: full-text articles; uci_news_6k.jsonl: headlines).

    .venv/bin/python bench/embeddings.py [--data DIR] [--files F ...] [--limit N] [--threads N] [--repeat N]
        [--lead-words N] [--dump DIR] [--json OUT]

Rows: sentence-transformers fp32 on the full text (256 tokens, the reference for cost), then title + lead
(`embedding_text`, at most 128 tokens) through sentence-transformers fp32, ONNX fp32 and ONNX int8.
- articles/s: wall time of one `embed()` over the whole file (perf_counter), after one warm-up batch; with
  --repeat the best run counts.
- per CPU-s: the same run divided by the process's CPU time (all threads): other load on a shared machine
  disturbs it less; on an idle machine articles/s approaches it times the threads used.
- cos mean / min: row by row, to sentence-transformers fp32 on title + lead.
- story AP: average precision of all article pairs ranked by cosine, a pair being right when both articles
  are in one story: how well the vectors separate stories, with no clustering threshold to tune.
--dump writes each row's vectors as FILE.KEY.npy, plus FILE.ids.json (article ids and stories in row order),
for scoring clustering on them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.embed import BATCH_SIZE, KINDS, LEAD_WORDS, Embedder, embedding_text, load_embedder

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "clustering-dev"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
DATASETS = ("ecbplus_dev.jsonl", "uci_news_6k.jsonl")
REFERENCE = "st-fp32"  # the row every other row's vectors are compared with


@dataclass(frozen=True, slots=True)
class Run:
    key: str  # short name, used for --dump files
    label: str
    kind: str  # load_embedder kind
    max_tokens: int
    full_text: bool  # the article's whole text, rather than title + lead


RUNS = (
    Run("st-fp32-full", "sentence-transformers fp32, full text", "minilm-torch", 256, True),
    Run(REFERENCE, "sentence-transformers fp32, title+lead", "minilm-torch", 128, False),
    Run("onnx-fp32", "ONNX fp32, title+lead, sorted batches", "minilm-fp32", 128, False),
    Run("onnx-int8", "ONNX int8, title+lead, sorted batches", "minilm-int8", 128, False),
)


@dataclass(slots=True)
class Figures:
    label: str
    articles: int
    seconds: float
    cpu_seconds: float  # all of the process's threads: less sensitive than `seconds` to other load
    tokens: float  # mean input tokens per article, after truncation
    cosine_mean: float = 0.0
    cosine_min: float = 0.0
    story_ap: float = 0.0

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.articles / self.cpu_seconds if self.cpu_seconds else 0.0


def load_articles(path: Path, limit: int) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:limit] if limit > 0 else rows


def mean_tokens(texts: list[str], max_tokens: int) -> float:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(KINDS["minilm-fp32"].source() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return float(np.mean([len(e.ids) for e in tokenizer.encode_batch(texts)]))


def story_average_precision(vectors: NDArray[np.float32], stories: list[str]) -> float:
    """Average precision of all article pairs ranked by cosine, a pair being right when its two articles share
    a story: how well the vectors alone separate stories, with no clustering threshold to tune."""
    upper = np.triu_indices(len(stories), k=1)
    scores = (vectors @ vectors.T)[upper]
    labels = np.asarray(stories)
    same = (labels[:, None] == labels[None, :])[upper][np.argsort(-scores, kind="stable")]
    hits = np.cumsum(same)
    return float(np.sum(hits[same] / (np.flatnonzero(same) + 1)) / max(int(hits[-1]), 1))


def timed(embedder: Embedder, texts: list[str], repeat: int) -> tuple[NDArray[np.float32], float, float]:
    """The vectors, and the wall and CPU seconds of the fastest of `repeat` runs."""
    embedder.embed(texts[:BATCH_SIZE])  # warm-up: first-run allocations are not per-article cost
    best, cpu = float("inf"), 0.0
    vectors = np.zeros((0, embedder.dim), dtype=np.float32)
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        vectors = embedder.embed(texts)
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - start_cpu
    return vectors, best, cpu


def bench_dataset(path: Path, embedders: dict[str, Embedder], args: argparse.Namespace) -> dict[str, Figures]:
    articles = load_articles(path, args.limit)
    full = [str(a["text"]) for a in articles]
    lead = [embedding_text(str(a["title"]), str(a["text"]), lead_words=args.lead_words) for a in articles]
    results: dict[str, Figures] = {}
    vectors: dict[str, NDArray[np.float32]] = {}
    for run in RUNS:
        texts = full if run.full_text else lead
        vectors[run.key], seconds, cpu = timed(embedders[run.key], texts, args.repeat)
        results[run.key] = Figures(run.label, len(texts), seconds, cpu, mean_tokens(texts, run.max_tokens))
    stories = [str(a["story"]) for a in articles]
    for key, figures in results.items():
        cosines = np.sum(vectors[key] * vectors[REFERENCE], axis=1)
        figures.cosine_mean, figures.cosine_min = float(cosines.mean()), float(cosines.min())
        figures.story_ap = story_average_precision(vectors[key], stories)
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        stem = path.name.removesuffix(".jsonl")
        for key, array in vectors.items():
            np.save(args.dump / f"{stem}.{key}.npy", array)
        ids = [{"id": a["id"], "story": a["story"]} for a in articles]
        (args.dump / f"{stem}.ids.json").write_text(json.dumps(ids) + "\n", encoding="utf-8")
    return results


def print_table(name: str, results: dict[str, Figures]) -> None:
    print(f"\n{name}")
    print(
        f"{'embedder':<42} {'articles/s':>10} {'per CPU-s':>9} {'tokens':>7} "
        f"{'cos mean':>9} {'cos min':>8} {'story AP':>9}"
    )
    for f in results.values():
        print(
            f"{f.label:<42} {f.per_second:>10.1f} {f.per_cpu_second:>9.1f} {f.tokens:>7.1f} "
            f"{f.cosine_mean:>9.4f} {f.cosine_min:>8.4f} {f.story_ap:>9.4f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"data directory (default {DEFAULT_DATA})"
    )
    parser.add_argument("--files", nargs="+", default=list(DATASETS), help="files of the data directory")
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles of each file")
    parser.add_argument("--threads", type=int, default=None, help="threads per embedder (default: all CPUs)")
    parser.add_argument("--repeat", type=int, default=1, help="time each embedder N times, keep the best")
    parser.add_argument(
        "--lead-words", type=int, default=LEAD_WORDS, help="words of the body after the title"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="exported ONNX models")
    parser.add_argument("--dump", type=Path, help="write each run's vectors here as .npy")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    data: Path = args.data.resolve()
    paths = [data / name for name in args.files if (data / name).exists()]
    if not paths:
        print(f"skipped: none of {', '.join(args.files)} found at {data}")
        return 0
    start = time.perf_counter()
    embedders = {
        run.key: load_embedder(run.kind, args.cache, args.threads, max_tokens=run.max_tokens) for run in RUNS
    }
    print(f"embedders loaded in {time.perf_counter() - start:.1f} s (ONNX cache: {args.cache})")
    threads = {getattr(e, "threads", None) for e in embedders.values()}
    print(f"threads: {', '.join(map(str, threads))}; CPUs available: {len(os.sched_getaffinity(0))}")
    report: dict[str, Any] = {"threads": sorted(map(str, threads)), "lead_words": args.lead_words}
    for path in paths:
        results = bench_dataset(path, embedders, args)
        print_table(path.name, results)
        report[path.name] = {
            key: {**asdict(f), "per_second": f.per_second, "per_cpu_second": f.per_cpu_second}
            for key, f in results.items()
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
