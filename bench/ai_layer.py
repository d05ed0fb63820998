"""The AI layer end to end, as a user meets it: each dev set is written as a JSON Lines file, put through
`broadsheet import` (which enriches every article) into a fresh home, read back with `broadsheet export`, and
scored from the exported fields only. Stories and briefs are off: this measures enrichment.

- key points (`key_points`) against CNN/Daily Mail highlights and BBC extractive summaries: ROUGE-1/2/L F1
  (rouge-score, stemming), LEAD-3 of the same stored text beside them, and the share of citations whose `text`
  is found in the exported `text`;
- entities (`entities`) against CoNLL-2003 dev: per-document set F1 of (name, type) for PER/ORG/LOC, names
  folded as bench/enrich_entities.py folds them;
- topic (`topic`) against AG News and BBC News labels, through the documented mapping (bench/enrich_topic.py);
- language (`lang`) of og2021_dev titles;
- speed: the enrichment's own articles/s (from the import's summary) on the CNN/DM articles, the import
  process's CPU milliseconds per article (user + system), and the peak memory of the import process.

Usage: .venv/bin/python bench/ai_layer.py [--data ../shared/data] [--limit N] [--json FILE]
Data sets come from ../shared/data (research-licensed; read, never copied); skips cleanly when absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO_ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
CNN = Path("ai-dev/cnn_dailymail/dev.jsonl")
BBC_SUMMARY = Path("ai-dev/bbc_news_summary/dev.jsonl.gz")
CONLL = Path("ai-dev/conll2003_en/dev.jsonl")
AG = Path("ai-dev/ag_news/dev.jsonl")
BBC_TOPICS = Path("ai-dev/bbc_news/dev.jsonl")
OG2021 = Path("clustering-dev/og2021_dev.jsonl")
MEASURES = ("rouge1", "rouge2", "rougeL")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def first_sentence(text: str) -> str:
    """A stand-in headline for sets without one (CNN/DM): the article's first sentence, cut to 20 words."""
    head = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(head.split()[:20])


def record(key: str, title: str, text: str, n: int) -> dict[str, Any]:
    return {
        "url": f"https://bench.example/{key}",
        "title": title or "(untitled)",
        "text": text,
        "published": (T0 + timedelta(minutes=n)).isoformat(),
        "outlet": "Bench",
    }


def run_cli(home: Path, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Import `rows` into a fresh home and export them: (exported records by input order, import figures)."""
    home.mkdir(parents=True, exist_ok=True)
    data = home / "in.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    env = {
        **os.environ,
        "BROADSHEET_HOME": str(home),
        "BROADSHEET_STORIES": "false",
        "BROADSHEET_MODELS_DIR": str(REPO_ROOT / ".cache" / "models"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    cli = [str(REPO_ROOT / ".venv" / "bin" / "broadsheet")]
    started = time.perf_counter()
    cpu_before = _children_cpu()
    imported = subprocess.run(
        [*cli, "import", str(data)], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    exported = subprocess.run([*cli, "export"], env=env, capture_output=True, text=True, check=True)
    by_url = {r["url"]: r for r in map(json.loads, exported.stdout.splitlines())}
    match = re.search(r"enrich: (\d+) articles enriched .* in ([\d.]+) s", imported.stdout)
    figures: dict[str, Any] = {"import_seconds": round(wall, 1), "peak_rss_mib_so_far": round(rss)}
    # CPU time does not depend on what else the machine runs, as articles/s does.
    figures["import_cpu_ms_per_article"] = round(1000 * cpu / max(len(rows), 1), 1)
    if match:
        figures["enriched"] = int(match.group(1))
        figures["enrich_seconds"] = float(match.group(2))
        figures["enrich_articles_per_second"] = round(
            int(match.group(1)) / max(float(match.group(2)), 1e-9), 1
        )
    # A row whose text another row already had is one article to the dedupe step, stored once under the first
    # row's URL: it has no line of its own in the export, and is left out of the scores (counted here).
    figures["folded_into_another"] = sum(1 for r in rows if r["url"] not in by_url)
    return [by_url.get(r["url"], {}) for r in rows], figures


def _children_cpu() -> float:
    """User and system seconds of the finished child processes (the import's whole process: start-up, model
    loading and every step, enrichment most of it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- the sets ----------------------------------------------------------------------------------------------


def key_points(home: Path, rows: list[tuple[str, str, str]], scorer: Any) -> dict[str, Any]:
    """rows: (title, text, reference)."""
    from broadsheet.enrich import split_sentences

    records = [record(f"kp/{i}", title, text, i) for i, (title, text, _) in enumerate(rows)]
    exported, figures = run_cli(home, records)
    ours: dict[str, list[float]] = defaultdict(list)
    lead: dict[str, list[float]] = defaultdict(list)
    cited = found = 0
    for (_title, _text, reference), out in zip(rows, exported, strict=True):
        if not out:
            continue
        points = out.get("key_points", [])
        for point in points:
            for citation in point["citations"]:
                cited += 1
                found += citation["text"] in out.get("text", "")
        chosen = " ".join(p["text"] for p in points)
        lead3 = " ".join(s.text for s in split_sentences(out.get("text", ""))[:3])
        for name, value in scorer.score(reference, chosen).items():
            ours[name].append(value.fmeasure)
        for name, value in scorer.score(reference, lead3).items():
            lead[name].append(value.fmeasure)
    figures["articles"] = len(ours["rouge1"])
    figures["ours"] = [round(sum(ours[m]) / len(ours[m]), 4) for m in MEASURES]
    figures["lead3_of_stored_text"] = [round(sum(lead[m]) / len(lead[m]), 4) for m in MEASURES]
    figures["citations_found"] = round(found / max(cited, 1), 4)
    return figures


def entities(home: Path, path: Path, limit: int | None) -> dict[str, Any]:
    import enrich_entities as ee  # bench/enrich_entities.py: the same documents, gold sets and folding
    from broadsheet.enrich.entities import article_text
    from broadsheet.enrich.entity_names import name_key

    documents = ee.load_conll(path, limit)
    records = [record(f"conll/{i}", d.title, d.text, i) for i, d in enumerate(documents)]
    exported, figures = run_cli(home, records)
    tally = ee.Tally()
    for document, out in zip(documents, exported, strict=True):
        if not out:
            continue
        gold = ee.entity_set(article_text(document.title, document.text), document.gold)
        found = {
            (name_key(e["name"]), ee.SCORED[e["type"]])
            for e in out.get("entities", [])
            if e["type"] in ee.SCORED
        }
        tally.add(gold, found)
    figures["documents"] = len(tally.per_document)
    figures["set_f1_micro"] = round(tally.f1(), 4)
    figures["set_f1_macro"] = round(tally.macro(), 4)
    figures["set_f1_by_type"] = {kind: round(tally.f1(kind), 4) for kind in ee.SCORED.values()}
    return figures


def topics(home: Path, name: str, path: Path, limit: int | None) -> dict[str, Any]:
    import enrich_topic as et  # bench/enrich_topic.py: the documented mapping of our topics to each set's labels

    rows = list(read_jsonl(path))[:limit]
    records = [record(f"topic/{i}", r["title"], r["text"], i) for i, r in enumerate(rows)]
    exported, figures = run_cli(home, records)
    mapping = et.MAPS[name]
    scored = [(row, out) for row, out in zip(rows, exported, strict=True) if out]
    right = sum(mapping.get(out.get("topic", "")) == row["label"] for row, out in scored)
    figures["articles"] = len(scored)
    figures["accuracy"] = round(right / max(len(scored), 1), 4)
    return figures


def languages(home: Path, path: Path, limit: int | None) -> dict[str, Any]:
    # Headlines repeated word for word are one article to the dedupe step (stored once): each is scored once.
    unique = {r["title"]: r for r in read_jsonl(path)}
    rows = list(unique.values())[:limit]
    records = [record(f"lang/{i}", r["title"], "", i) for i, r in enumerate(rows)]
    exported, figures = run_cli(home, records)
    scored = [(row, out) for row, out in zip(rows, exported, strict=True) if out]
    right = sum(out.get("lang", "") == row["lang"] for row, out in scored)
    figures["titles"] = len(scored)
    figures["accuracy"] = round(right / max(len(scored), 1), 4)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="items per set (default: all)")
    parser.add_argument("--only", choices=("keypoints", "entities", "topics", "language"), action="append")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    needed = (CNN, BBC_SUMMARY, CONLL, AG, BBC_TOPICS, OG2021)
    missing = [str(args.data / p) for p in needed if not (args.data / p).exists()]
    if missing:
        print(f"skipped: data not found: {', '.join(missing)}")
        return 0
    from rouge_score import rouge_scorer  # type: ignore[import-untyped]

    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)
    wanted = set(args.only or ("keypoints", "entities", "topics", "language"))
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ai-bench-") as tmp:
        homes = iter(Path(tmp) / str(n) for n in range(100))
        if "keypoints" in wanted:
            cnn = [
                (first_sentence(r["article"]), r["article"], r["reference"])
                for r in read_jsonl(args.data / CNN)
            ]
            figures["cnn_dm"] = key_points(next(homes), cnn[: args.limit], scorer)
            print("CNN/DM key points", json.dumps(figures["cnn_dm"]), flush=True)
            bbc = [
                (
                    r["title"],
                    r["article"],
                    r["reference"] if r["reference_sentence_idx"] else r["reference_raw"],
                )
                for r in read_jsonl(args.data / BBC_SUMMARY)
            ]
            figures["bbc_summary"] = key_points(next(homes), bbc[: args.limit], scorer)
            print("BBC key points", json.dumps(figures["bbc_summary"]), flush=True)
        if "entities" in wanted:
            figures["conll"] = entities(next(homes), args.data / CONLL, args.limit)
            print("CoNLL entities", json.dumps(figures["conll"]), flush=True)
        if "topics" in wanted:
            figures["ag_news"] = topics(next(homes), "AG News", args.data / AG, args.limit)
            print("AG News topics", json.dumps(figures["ag_news"]), flush=True)
            figures["bbc_news"] = topics(next(homes), "BBC News", args.data / BBC_TOPICS, args.limit)
            print("BBC News topics", json.dumps(figures["bbc_news"]), flush=True)
        if "language" in wanted:
            figures["og2021"] = languages(next(homes), args.data / OG2021, args.limit)
            print("og2021 language", json.dumps(figures["og2021"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
