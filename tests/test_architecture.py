"""The package's layering, read from its imports (every import statement, at module level, inside functions
and under TYPE_CHECKING): no module imports one above its layer, and no group of modules imports itself in a
circle.

Layers, lowest first: the foundation (errors, models, settings, dates, URLs, text), the step packages
(sources, fetch, extract, dedupe, enrich, cluster, store), the pipeline that runs them in order, the web
tier and the workers (drivers of the pipeline, side by side), and the entry points (cli, commands) that wire
them up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import broadsheet

PACKAGE = Path(broadsheet.__file__).parent
STEPS = ("sources", "fetch", "extract", "dedupe", "enrich", "cluster", "store")
LAYERS = {
    "pipeline": 2,
    "web": 3,
    "workers": 3,
    "commands": 4,
    "cli": 4,
    "__main__": 4,
    **dict.fromkeys(STEPS, 1),
}
LAYER_NAMES = {
    0: "the foundation",
    1: "a step package",
    2: "the pipeline",
    3: "the web tier or the workers",
    4: "an entry point",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if "migrations" in parts:  # Alembic's scripts are loaded by Alembic, not imported
            continue
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _bound_in(package: str) -> set[str]:
    """Names a package's __init__ binds itself: `from broadsheet.store import search` is then the function
    it re-exports, not the submodule of the same name."""
    path = MODULES.get(package)
    if path is None or path.name != "__init__.py":
        return set()
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


BOUND = {name: _bound_in(name) for name in MODULES}


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import of a broadsheet module in the file, wherever it stands;
    relative imports are resolved."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] != "broadsheet":
                continue
            for alias in node.names:  # `from broadsheet.store import search` may name a module
                full = f"{base}.{alias.name}"
                submodule = full in MODULES and alias.name not in BOUND.get(base, set())
                yield (full if submodule else base), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "broadsheet":
                    yield alias.name, node.lineno


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in imports_of(path)} - {name} for name, path in MODULES.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_package_is_read_whole() -> None:
    # A walk that found nothing would pass every rule below.
    assert {"broadsheet.pipeline.assemble", "broadsheet.web.app", "broadsheet.store.search"} <= set(MODULES)
    assert sum(1 for _ in imports_of(MODULES["broadsheet.pipeline.crawl"])) > 5


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{line} ({LAYER_NAMES[layer(name)]}) imports {target} "
        f"({LAYER_NAMES[layer(target)]})"
        for name, path in sorted(MODULES.items())
        for target, line in imports_of(path)
        if layer(target) > layer(name)
    ]
    assert not wrong, "imports up the layers:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_web_tier_does_not_import_the_entry_points_nor_the_api_its_pages() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.startswith("broadsheet.web.api")
        for target, _ in imports_of(path)
        if target.startswith("broadsheet.web.pages")
    ]
    assert not wrong


def test_layers_above_the_steps_use_each_step_through_its_package() -> None:
    # Each step package's __init__ is its interface (__all__); what is behind it can change freely.
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for name, path in sorted(MODULES.items())
        if layer(name) > 1
        for target, line in imports_of(path)
        if layer(target) == 1 and target.count(".") > 1
    ]
    assert not wrong, "reaches past a step package's interface:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ],
    ids=["three in a circle", "a line", "a pair and a bystander"],
)
def test_cycle_finder_finds_cycles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("broadsheet.errors", 0),
        ("broadsheet.store.search", 1),
        ("broadsheet.pipeline.crawl", 2),
        ("broadsheet.web.app", 3),
        ("broadsheet.commands.crawl", 4),
    ],
)
def test_layers_are_told_apart(module: str, expected: int) -> None:
    assert layer(module) == expected
