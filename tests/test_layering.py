"""Imports point down: production code never imports test, demo-data or benchmark modules, and
the tariff arithmetic imports no model (the models validate rule sets with it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("accounts", "provider_auth", "flatpeak_check")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_production_module_imports_a_benchmark_or_test_module() -> None:
    seen = 0
    offenders: dict[str, list[str]] = {}
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            seen += 1
            bad = sorted(
                m for m in _imported_modules(path) if m.split(".")[0] in {"benchmarks", "tests"}
            )
            if bad:
                offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}
    assert seen > 50  # the walk really saw the code


def test_the_tariff_arithmetic_imports_no_model() -> None:
    imported = _imported_modules(ROOT / "accounts" / "tariffs.py")
    assert not {m for m in imported if m.endswith(".models") or m.startswith("provider_auth")}


def _module_graph() -> dict[str, set[str]]:
    """Production module → the production modules it imports, at module level or inside a
    function alike (a lazy import still ties the two modules together)."""
    modules: dict[str, Path] = {}
    for package in (*PRODUCTION, "sandbox"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:  # `from package import module` names a module
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_modules_import_each_other_in_a_loop() -> None:
    graph = _module_graph()
    assert len(graph) > 100  # the walk really saw the code
    assert _cycles(graph) == []
