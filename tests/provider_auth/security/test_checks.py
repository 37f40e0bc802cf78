from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[3]
GOOD_SECRET = "k" * 10 + "-a-long-random-looking-secret-for-tests-0123456789-abcdef"


def _ids(**overrides: object) -> set[str]:
    base = {
        "FLATPEAK_ACCOUNT_ID": "acc",
        "FLATPEAK_API_KEY": "key",
        "SECRET_KEY": GOOD_SECRET,
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "PUBLIC_BASE_URL": "https://auth.provider.example",
        "FLATPEAK_API_URL": "https://api.flatpeak.com",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        # The suite's own settings put MD5 first; production keeps Argon2 first.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.Argon2PasswordHasher"],
    }
    base.update(overrides)
    with override_settings(**base):
        return {m.id for m in run_checks(include_deployment_checks=True) if m.id}


def test_a_sound_production_configuration_raises_no_project_warning() -> None:
    assert not {i for i in _ids() if i.startswith("provider_auth.")}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"FLATPEAK_API_KEY": ""}, "provider_auth.W001"),
        ({"SANDBOX_ENABLED": True, "DEBUG": False}, "provider_auth.W002"),
        ({"FLATPEAK_REDIRECT_HOSTS": ["http://connect.flatpeak.com"]}, "provider_auth.W003"),
        ({"FLATPEAK_REDIRECT_HOSTS": ["*.flatpeak.com"]}, "provider_auth.W003"),
        ({"FLATPEAK_REDIRECT_HOSTS": ["localhost:8000"]}, "provider_auth.W003"),
        ({"FLATPEAK_API_URL": "http://api.flatpeak.com"}, "provider_auth.W003"),
        ({"OAUTH_PKCE_REQUIRED": False}, "provider_auth.W004"),
        ({"SECRET_KEY": "short"}, "provider_auth.W005"),
        ({"SECRET_KEY": "a" * 80}, "provider_auth.W005"),
        ({"FIELD_ENCRYPTION_KEY": "not-a-fernet-key"}, "provider_auth.W005"),
        ({"REDIS_URL": ""}, "provider_auth.W006"),
        ({"RATE_LIMIT_ENABLED": False}, "provider_auth.W007"),
        (
            {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"]},
            "provider_auth.W010",
        ),
    ],
)
def test_dangerous_configuration_is_warned_about(overrides: dict, expected: str) -> None:
    assert expected in _ids(**overrides)


def test_a_valid_fernet_key_is_accepted() -> None:
    from cryptography.fernet import Fernet

    assert "provider_auth.W005" not in _ids(FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode())


@pytest.mark.spec("ASVS 14.1.1")
def test_deploy_checks_pass_at_warning_level_with_production_settings() -> None:
    """The same command CI runs (.ci/run), in a fresh process with production settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DEBUG="false",
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="auth.provider.example",
        PUBLIC_BASE_URL="https://auth.provider.example",
        FLATPEAK_ACCOUNT_ID="acc_ci",
        FLATPEAK_API_KEY="ci-placeholder",
        REDIS_URL="redis://127.0.0.1:6379/7",
        EMAIL_URL="smtp+tls://relay.provider.example:587",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_the_csrf_middleware_is_reported(settings) -> None:
    from provider_auth.checks import check_csrf_middleware

    assert check_csrf_middleware() == []
    settings.MIDDLEWARE = [
        m
        for m in settings.MIDDLEWARE
        if m != "provider_auth.security.csrf.FetchMetadataCsrfViewMiddleware"
    ]
    assert [w.id for w in check_csrf_middleware()] == ["provider_auth.W008"]
