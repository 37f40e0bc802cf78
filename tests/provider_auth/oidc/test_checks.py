"""Deployment checks for a dangerous or broken OpenID Connect configuration."""

from __future__ import annotations

from typing import Any

import pytest

from provider_auth.oidc.checks import check_oidc_configuration


def ids(**_: Any) -> set[str]:
    return {warning.id for warning in check_oidc_configuration()}


def test_no_issuer_and_no_local_login_means_nobody_can_log_in(settings: Any) -> None:
    settings.OIDC_ISSUER = ""
    settings.LOCAL_LOGIN_ENABLED = False
    assert ids() == {"provider_auth.W101"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"OIDC_ISSUER": "http://idp.example"}, "provider_auth.W102"),
        ({"OIDC_CLIENT_ID": ""}, "provider_auth.W103"),
        ({"OIDC_CLIENT_SECRET": ""}, "provider_auth.W104"),
        ({"OIDC_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "provider_auth.W105"),
        ({"OIDC_CUSTOMER_CLAIM": "name"}, "provider_auth.W106"),
    ],
)
def test_each_broken_setting_is_named(
    settings: Any, overrides: dict[str, str], expected: str
) -> None:
    settings.OIDC_ISSUER = "https://idp.example/realms/customers"
    settings.OIDC_CLIENT_ID = "provider-auth"
    settings.OIDC_CLIENT_SECRET = "secret"
    settings.OIDC_PRIVATE_KEY_FILE = ""
    settings.OIDC_CUSTOMER_CLAIM = "account_number"
    assert ids() == set()
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert ids() == {expected}
