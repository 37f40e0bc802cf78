"""Fixtures for the consent lifecycle: a premise with a running contract, FlatPeak's client,
grants issued to it, and clients for the tariff API and the OAuth endpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from tests.provider_auth.oauth.conftest import FormClient

# The tariff API's fixtures, shared: a contract, FlatPeak's client, grants issued to it, GETs.
from tests.provider_auth.tariff_api.conftest import (  # noqa: F401
    _empty_documents,
    api_get,
    contract,
    flatpeak_client,
    issue,
)


@pytest.fixture
def oauth_post(flatpeak_client: Any) -> Callable[..., Any]:  # noqa: F811 (the fixture)
    """POST a form to an OAuth client endpoint as FlatPeak (HTTP Basic)."""
    form_client = FormClient()
    client, secret = flatpeak_client
    auth = "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()

    def post(path: str, data: dict[str, str]) -> Any:
        return form_client.post(path, data, secure=True, HTTP_AUTHORIZATION=auth)

    return post
