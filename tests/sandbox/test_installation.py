"""The sandbox is a tool beside the product: installed only when switched on, never imported by it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def test_no_production_module_imports_the_sandbox() -> None:
    scanned = [path for package in PRODUCTION_PACKAGES for path in (ROOT / package).rglob("*.py")]
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "sandbox"
        )
        for path in scanned
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(scanned) > 50  # the walk really saw the packages


def _probe(**env: str) -> str:
    """What a production process (provider_auth.settings) installs and routes, as one line."""
    script = (
        "import django; django.setup(); "
        "from django.apps import apps; from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/sandbox/'); routed = True\n"
        "except Resolver404:\n    routed = False\n"
        "print(apps.is_installed('sandbox'), routed)"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "provider_auth.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(("enabled", "expected"), [("false", "False False"), ("true", "True True")])
def test_the_sandbox_is_installed_and_routed_only_when_enabled(enabled: str, expected: str) -> None:
    assert _probe(SANDBOX_ENABLED=enabled) == expected
