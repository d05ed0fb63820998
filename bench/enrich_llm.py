"""The optional LLM rewrite on real news: key points written by a local model from an article's first
sentences, scored against the reference highlights, with how often its citations hold before and after
`check_claims`, how often it falls back to the extractive result, its latency and the server's memory.

Reads ../shared/data/ai-dev/cnn_dailymail/dev.jsonl; runs llama.cpp's server through xllamacpp on a GGUF model
whose parts install from the registry (tests/llm_server.py). Prints "skipped" and exits 0 when the data,
rouge-score, xllamacpp or the model's parts are absent.

    .venv/bin/python bench/enrich_llm.py [--limit N] [--model-parts NAME|PREFIX1..N=SHA256] [--threads N]
        [--input keypoints|lead] [--sentences 15] [--points 4] [--json OUT]

- Input (`--input keypoints`, the default): the sentences our key points and summary cite, in text order, at
  most 8, as the rewrite step (pipeline/rewrite.py) sends them; or (`--input lead`) the first `--sentences`
  sentences that are not boilerplate (`is_boilerplate`: a dateline alone, a byline, a question to the
  reader). Task "summary", at most `--points` claims (the rewrite step's 4).
- ROUGE-1/2/L F1 with stemming (rouge-score, as bench/enrich.py) against the highlights, the mean over
  articles, for: the model's checked claims where it did not fall back ("LLM, when used"); what a reader
  is shown (those claims, else our extractive key points: "shown"); our key points (`digest`) and LEAD-3 on
  the same articles.
- Citations, per claim the model wrote: ids all in range; the best-matching input sentence (most of the
  claim's content words) among its cites ("citation holds"); passing `check_claims`; copied verbatim from one
  sentence. The same "citation holds" for the claims that survive the checks, on their pruned cites.
- Fallback: the share of articles with no claim left (and why); latency per article; the server's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadsheet.enrich.keypoints import content_terms, digest, is_boilerplate
from broadsheet.enrich.llm import Grounded, LLMConfig, ask_model, check_claims
from broadsheet.enrich.sentences import Sentence, split_sentences
from broadsheet.pipeline.rewrite import MAX_CLAIMS, summary_sources
from broadsheet.text import collapse_whitespace

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

# tests/ holds the server helper that the tests use too; mypy, given src and bench, does not look there
from llm_server import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    ModelMissingError,
    ensure_model,
    parse_parts,
    running_server,
    xllamacpp_installed,
)

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
CNN = Path("ai-dev/cnn_dailymail/dev.jsonl")
MEASURES = ("rouge1", "rouge2", "rougeL")
ROWS = (
    "LLM, when used",
    "shown (LLM, else extractive)",
    "ours (digest), same articles",
    "LEAD-3, same articles",
)


@dataclass(slots=True)
class Tally:
    """Counts over every claim the model wrote, and over those that survived the checks."""

    written: int = 0
    ids_in_range: int = 0
    holds_before: int = 0
    passes_checks: int = 0
    verbatim: int = 0
    survived: int = 0
    holds_after: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def best_sentence(text: str, sentences: Sequence[str]) -> int:
    """The sentence (from 0) holding most of the claim's content words: the one it should cite at least."""
    terms = set(content_terms(text))
    return max(range(len(sentences)), key=lambda i: len(terms & set(content_terms(sentences[i]))))


def count_claims(raw: Any, sentences: Sequence[str], kept: Sequence[Grounded], tally: Tally) -> None:
    items = raw.get("claims") if isinstance(raw, dict) else None
    tidied = {collapse_whitespace(s) for s in sentences}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        text, cites = item["text"], item.get("cites")
        numbers = [c for c in cites if isinstance(c, int)] if isinstance(cites, list) else []
        tally.written += 1
        tally.ids_in_range += bool(numbers) and all(1 <= c <= len(sentences) for c in numbers)
        tally.holds_before += best_sentence(text, sentences) + 1 in numbers
        tally.passes_checks += bool(check_claims({"claims": [item]}, sentences))
        tally.verbatim += collapse_whitespace(text) in tidied
    for claim in kept:
        tally.survived += 1
        tally.holds_after += best_sentence(claim.text, sentences) in claim.cites


def keypoints_data(sentences: Sequence[Sentence]) -> dict[str, Any]:
    """Our key points and summary as the enrichment step stores them (pipeline/enrich.py)."""
    result = digest("", sentences)
    by_index = {s.index: s.text for s in sentences}
    return {
        "key_points": [
            {"text": p.text, "citations": [{"sentence": p.sentence, "text": p.text}]}
            for p in result.key_points
        ],
        "summary": [{"sentence": i, "text": by_index[i]} for i in result.summary],
    }


def lead3(sentences: Sequence[str]) -> list[str]:
    return list(sentences[:3])


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=10, help="articles (default 10)")
    parser.add_argument(
        "--model-parts", default="qwen2.5-coder-0.5b", help="a known model, or PREFIX1..N=SHA256"
    )
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: cores - 1)")
    parser.add_argument("--sentences", type=int, default=15, help="input sentences per article")
    parser.add_argument("--points", type=int, default=MAX_CLAIMS, help="claims asked for")
    parser.add_argument(
        "--input",
        choices=("keypoints", "lead"),
        default="keypoints",
        help="keypoints: the sentences our key points and summary cite, as the rewrite step sends them "
        "(default); lead: the first --sentences sentences",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per request")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not (args.data / CNN).exists():
        print(f"skipped: data not found: {args.data / CNN}")
        return 0
    try:
        from rouge_score import rouge_scorer  # type: ignore[import-untyped]
    except ImportError:
        print("skipped: rouge-score is not installed (.venv/bin/pip install rouge-score)")
        return 0
    if not xllamacpp_installed():
        print("skipped: xllamacpp is not installed (.venv/bin/pip install xllamacpp==2026.10.11549)")
        return 0
    parts = parse_parts(args.model_parts)
    try:
        model = ensure_model(parts)
    except ModelMissingError as missing:
        print(f"skipped: the model {parts.filename} is not available: {missing}")
        return 0

    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)
    rows = list(read_jsonl(args.data / CNN))[: args.limit]
    totals = {row: dict.fromkeys(MEASURES, 0.0) for row in ROWS}
    tally = Tally()

    def score(row: str, reference: str, points: Sequence[str]) -> None:
        scores = scorer.score(reference, "\n".join(points))
        for measure in MEASURES:
            totals[row][measure] += scores[measure].fmeasure

    with running_server(model, threads=args.threads, context=4096) as server:
        config = LLMConfig(server.base_url, parts.filename, server.api_key, timeout=args.timeout)
        for article in rows:
            all_sentences = split_sentences(article["article"])
            if args.input == "keypoints":
                sentences = [s["text"] for s in summary_sources(keypoints_data(all_sentences))]
            else:
                # a dateline alone ("(CNN)"), a byline or a question to the reader is no source of a point
                sentences = [s.text for s in all_sentences if not is_boilerplate(s.text)][: args.sentences]
            started = time.perf_counter()
            raw, reason = ask_model(config, "summary", sentences, max_claims=args.points)
            kept = check_claims(raw, sentences)[: args.points] if raw is not None else ()
            tally.seconds.append(time.perf_counter() - started)
            count_claims(raw, sentences, kept, tally)
            extractive = [point.text for point in digest("", all_sentences).key_points]
            if kept:
                score(ROWS[0], article["reference"], [claim.text for claim in kept])
            else:
                tally.fallbacks[reason or "no claim held up against its sources"] += 1
            score(ROWS[1], article["reference"], [c.text for c in kept] or extractive)
            score(ROWS[2], article["reference"], extractive)
            score(ROWS[3], article["reference"], lead3([s.text for s in all_sentences]))
        peak_rss = server.peak_rss_mib()

    used = len(rows) - sum(tally.fallbacks.values())
    counts = {ROWS[0]: used, ROWS[1]: len(rows), ROWS[2]: len(rows), ROWS[3]: len(rows)}
    figures: dict[str, Any] = {
        "model": parts.filename,
        "articles": len(rows),
        "rouge": {row: {m: t / max(counts[row], 1) for m, t in totals[row].items()} for row in ROWS},
    }
    print(
        f"{parts.filename}, {len(rows)} CNN/DM articles, "
        + (
            "the sentences our key points cite"
            if args.input == "keypoints"
            else f"first {args.sentences} sentences"
        )
        + f", at most {args.points} claims"
    )
    print("ROUGE-1/2/L F1 (rouge-score, stemming) against the highlights:")
    for row in ROWS:
        cells = "/".join(f"{figures['rouge'][row][m]:.3f}" for m in MEASURES)
        print(f"  {row:34}{cells}   ({counts[row]} articles)")

    figures["claims"] = {
        "written": tally.written,
        "ids_in_range": tally.ids_in_range / max(tally.written, 1),
        "citation_holds_before": tally.holds_before / max(tally.written, 1),
        "passes_checks": tally.passes_checks / max(tally.written, 1),
        "verbatim": tally.verbatim / max(tally.written, 1),
        "survived": tally.survived,
        "citation_holds_after": tally.holds_after / max(tally.survived, 1),
    }
    print(f"claims written {tally.written}: ids in range {share(tally.ids_in_range, tally.written)}, "
          f"citation holds {share(tally.holds_before, tally.written)}, "
          f"pass the checks {share(tally.passes_checks, tally.written)}, "
          f"copied verbatim {share(tally.verbatim, tally.written)}")  # fmt: skip
    print(
        f"claims after the checks {tally.survived}: citation holds {share(tally.holds_after, tally.survived)}"
    )

    figures["fallback_share"] = 1 - used / max(len(rows), 1)
    figures["fallback_reasons"] = dict(tally.fallbacks)
    print(f"fell back to the extractive result: {share(len(rows) - used, len(rows))}")
    for reason, times in tally.fallbacks.most_common():
        print(f"  {times} x {reason}")
    figures["seconds"] = {
        "mean": statistics.fmean(tally.seconds),
        "median": statistics.median(tally.seconds),
        "max": max(tally.seconds),
    }
    figures["server_peak_rss_mib"] = peak_rss
    latency = figures["seconds"]
    print(f"latency per article: mean {latency['mean']:.1f} s, median {latency['median']:.1f} s, "
          f"max {latency['max']:.1f} s; server peak RSS {peak_rss:.0f} MiB")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
