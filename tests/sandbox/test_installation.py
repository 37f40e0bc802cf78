"""The sandbox is a tool beside the product: installed and routed only when switched on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
