"""The provider's domain stands alone: `accounts` never imports the FlatPeak/OAuth side."""

from __future__ import annotations

import ast
from pathlib import Path

import accounts

ROOT = Path(accounts.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_accounts_never_imports_provider_auth():
    offenders = {
        str(path.relative_to(ROOT.parent)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "provider_auth"
        )
        for path in ROOT.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10  # the walk really saw the app
