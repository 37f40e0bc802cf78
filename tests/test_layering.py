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
