"""Set-up of the sandbox: sandbox_setup and the production guard."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from provider_auth.oauth import tokens
from provider_auth.oauth.models import OAuthClient

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_setup_creates_flatpeaks_oauth_client_with_the_sandbox_secret(
    sandbox_on: Any, db: Any
) -> None:
    call_command("sandbox_setup", stdout=StringIO())
    client = OAuthClient.objects.get(client_id=sandbox_on.FLATPEAK_OAUTH_CLIENT_ID)
    assert tokens.secret_matches(sandbox_on.SANDBOX_OAUTH_CLIENT_SECRET, client.client_secret_hash)
    assert "refresh_token" in client.grant_types
    assert set(client.scopes) >= {"tariff:read", "contract:read", "address:read"}
    assert sandbox_on.SANDBOX_OAUTH_CLIENT_SECRET not in client.client_secret_hash


def test_sandbox_setup_is_idempotent_and_repairs_a_changed_secret(
    sandbox_on: Any, db: Any, make_oauth_client: Any
) -> None:
    make_oauth_client(client_id=sandbox_on.FLATPEAK_OAUTH_CLIENT_ID, is_active=False)
    call_command("sandbox_setup", stdout=StringIO())
    out = StringIO()
    call_command("sandbox_setup", stdout=out)
    assert "already up to date" in out.getvalue()
    client = OAuthClient.objects.get(client_id=sandbox_on.FLATPEAK_OAUTH_CLIENT_ID)
    assert client.is_active
    assert tokens.secret_matches(sandbox_on.SANDBOX_OAUTH_CLIENT_SECRET, client.client_secret_hash)
    assert OAuthClient.objects.count() == 1


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("SANDBOX_ENABLED", False, "SANDBOX_ENABLED is off"),
        ("SANDBOX_OAUTH_CLIENT_SECRET", "short", "SANDBOX_OAUTH_CLIENT_SECRET"),
        ("FLATPEAK_API_KEY", "", "FLATPEAK_API_KEY"),
    ],
)
def test_sandbox_setup_refuses_an_incomplete_configuration(
    sandbox_on: Any, db: Any, setting: str, value: Any, message: str
) -> None:
    setattr(sandbox_on, setting, value)
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_setup")


def test_the_sandbox_refuses_to_start_in_production_without_the_staging_switch() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}},
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "SANDBOX_ENABLED": "true",
        "ALLOWED_HOSTS": "auth.provider.example",
    }
    refused = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "SANDBOX_ALLOW_IN_PRODUCTION" in refused.stderr
    allowed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "SANDBOX_ALLOW_IN_PRODUCTION": "true"},
        capture_output=True,
        text=True,
    )
    assert "SANDBOX_ALLOW_IN_PRODUCTION" not in allowed.stderr
