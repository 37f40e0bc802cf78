"""The product never imports its tools: the sandbox, the tests (and their fakes), the benchmarks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_PACKAGES = ("provider_auth", "accounts")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("tool", ["sandbox", "tests", "benchmarks"])
def test_no_production_module_imports_a_tool(tool: str) -> None:
    scanned = [path for package in PRODUCTION_PACKAGES for path in (ROOT / package).rglob("*.py")]
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == tool
        )
        for path in scanned
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(scanned) > 50  # the walk really saw the packages
