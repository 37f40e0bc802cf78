"""Deployment checks for the OpenID Connect login (ids provider_auth.W1xx, this app's range)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_oidc_configuration(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings: list[Warning] = []
    issuer = settings.OIDC_ISSUER
    if not issuer:
        if not settings.LOCAL_LOGIN_ENABLED:
            warnings.append(
                Warning(
                    "LOCAL_LOGIN_ENABLED is false and OIDC_ISSUER is empty: nobody can log in.",
                    hint="Set OIDC_ISSUER and OIDC_CLIENT_ID, or LOCAL_LOGIN_ENABLED=true.",
                    id="provider_auth.W101",
                )
            )
        return warnings
    if not issuer.startswith("https://"):
        warnings.append(
            Warning(
                "OIDC_ISSUER is not an https URL: tokens and keys would travel in the clear.",
                hint="Use the identity provider's https issuer URL.",
                id="provider_auth.W102",
            )
        )
    if not settings.OIDC_CLIENT_ID:
        warnings.append(
            Warning(
                "OIDC_ISSUER is set but OIDC_CLIENT_ID is empty: federated login is off.",
                hint="Register this server as a client at the identity provider.",
                id="provider_auth.W103",
            )
        )
    key_file = settings.OIDC_PRIVATE_KEY_FILE
    if not settings.OIDC_CLIENT_SECRET and not key_file:
        warnings.append(
            Warning(
                "Neither OIDC_CLIENT_SECRET nor OIDC_PRIVATE_KEY_FILE is set: the code exchange "
                "cannot authenticate this server.",
                hint="Set one of them (private_key_jwt with a key file is preferred).",
                id="provider_auth.W104",
            )
        )
    if key_file and not os.path.isfile(key_file):
        warnings.append(
            Warning(
                f"OIDC_PRIVATE_KEY_FILE {key_file!r} does not exist.",
                hint="Mount the PEM private key registered for private_key_jwt.",
                id="provider_auth.W105",
            )
        )
    if settings.OIDC_CUSTOMER_CLAIM not in ("email", "account_number"):
        warnings.append(
            Warning(
                f"OIDC_CUSTOMER_CLAIM {settings.OIDC_CUSTOMER_CLAIM!r} is not supported: no login "
                "will find a customer.",
                hint="Use account_number or email.",
                id="provider_auth.W106",
            )
        )
    return warnings
