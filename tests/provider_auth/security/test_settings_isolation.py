"""Production settings never change because a test runner happens to be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "SECRET_KEY", "DEBUG", "SANDBOX_", "FAST_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="provider_auth.settings", **overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_importing_pytest_does_not_waive_the_production_secret_key() -> None:
    result = _run("import pytest, django; django.setup()", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_importing_pytest_does_not_allow_the_sandbox_in_production() -> None:
    result = _run(
        "import pytest, django; django.setup()",
        DEBUG="false",
        SECRET_KEY="x" * 60,
        SANDBOX_ENABLED="true",
    )
    assert result.returncode != 0
    assert "SANDBOX_ALLOW_IN_PRODUCTION" in result.stderr


def test_importing_pytest_keeps_argon2_first_and_the_production_static_storage() -> None:
    code = (
        "import json, pytest, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.PASSWORD_HASHERS[0], s.STORAGES['staticfiles']['BACKEND'], "
        "s.TESTING, s.SECRET_KEY]))"
    )
    result = _run(code, DEBUG="false", SECRET_KEY="production-" + "k" * 50)
    assert result.returncode == 0, result.stderr
    hasher, storage, testing, key = json.loads(result.stdout.strip().splitlines()[-1])
    assert hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert testing is False
    assert key == "production-" + "k" * 50


def test_the_suite_runs_on_its_own_explicit_settings_module(settings: Any) -> None:
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "provider_auth.settings_test"
    assert settings.TESTING is True
