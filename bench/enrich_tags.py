"""Keyphrase speed on real news: `keyphrases` on CNN/DailyMail articles, one at a time, on one core.

Reads ../shared/data/ai-dev/cnn_dailymail/dev.jsonl (300 articles, about 540 words each); prints "skipped" when
it is absent. The articles carry no headline, so the first sentence stands in for one.

    .venv/bin/python bench/enrich_tags.py [--data DIR] [--passes N] [--show N]

Prints articles per second (best of the passes, by the wall clock and by CPU time), the mean words per article, and the key phrases and merged
tags of the first `--show` articles to read by eye.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from broadsheet.enrich.tags import article_tags, keyphrases

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
CNN = Path("ai-dev/cnn_dailymail/dev.jsonl")


def load(path: Path) -> list[tuple[str, str]]:
    """(title, text) per article: the first sentence as the title, "(CNN)" and the like taken off."""
    articles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = str(json.loads(line)["article"])
        text = text.split(")", 1)[1] if text.startswith("(") and ")" in text[:20] else text
        articles.append((text.split(". ", 1)[0], text))
    return articles


def best_rates(articles: list[tuple[str, str]], passes: int) -> tuple[float, float]:
    """Articles per second of the fastest pass, by the wall clock and by the process's CPU time (which other
    work on a busy machine does not slow)."""
    wall = cpu = float("inf")
    for _ in range(passes):
        start, start_cpu = time.perf_counter(), time.process_time()
        for title, text in articles:
            keyphrases(title, text, "en")
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return len(articles) / wall, len(articles) / cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()
    path = args.data / CNN
    if not path.exists():
        print(f"skipped: {path} not found")
        return 0
    articles = load(path)
    words = sum(len(text.split()) for _, text in articles) / len(articles)
    wall, cpu = best_rates(articles, args.passes)
    print(f"keyphrases, {len(articles)} CNN/DM articles of {words:.0f} words on average, one core:")
    print(f"  {wall:.0f} articles/s ({1000 / wall:.2f} ms per article), best of {args.passes} passes")
    print(f"  {cpu:.0f} articles/s of CPU time ({1000 / cpu:.2f} ms per article)")
    for title, text in articles[: args.show]:
        phrases = keyphrases(title, text, "en")
        print(f"\n{title[:100]}\n  keyphrases: {'; '.join(phrases)}")
        print(f"  tags: {'; '.join(article_tags(publisher=(), entities=(), keyphrases=phrases))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
