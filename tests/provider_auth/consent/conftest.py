"""Fixtures for the consent lifecycle: a premise with a running contract, FlatPeak's client,
grants issued to it, and clients for the tariff API and the OAuth endpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from accounts.models import Contract
from provider_auth.oauth.services import IssuedTokens, grant_issue
from provider_auth.tariff_api.documents import documents
from tests.provider_auth.oauth.conftest import FormClient


@pytest.fixture(autouse=True)
def _empty_documents() -> Iterator[None]:
    documents.clear()
    yield
    documents.clear()


@pytest.fixture
def contract(make_contract: Callable[..., Contract]) -> Contract:
    return make_contract()


@pytest.fixture
def flatpeak_client(make_oauth_client: Callable[..., Any]) -> Any:
    return make_oauth_client(client_id="flatpeak", name="FlatPeak")


@pytest.fixture
def issue(contract: Contract, flatpeak_client: Any) -> Callable[..., tuple[Any, IssuedTokens]]:
    def make(**kwargs: Any) -> tuple[Any, IssuedTokens]:
        premise = kwargs.pop("premise", contract.premise)
        return grant_issue(
            customer=premise.customer,
            premise=premise,
            client=kwargs.pop("client", flatpeak_client[0]),
            directions=kwargs.pop("directions", ["IMPORT"]),
            **kwargs,
        )

    return make


@pytest.fixture
def api_get(client: Any) -> Callable[..., Any]:
    def get(path: str, token: str | None = None, **extra: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return client.get(path, secure=True, **headers, **extra)

    return get


@pytest.fixture
def oauth_post(flatpeak_client: Any) -> Callable[..., Any]:
    """POST a form to an OAuth client endpoint as FlatPeak (HTTP Basic)."""
    form_client = FormClient()
    client, secret = flatpeak_client
    auth = "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()

    def post(path: str, data: dict[str, str]) -> Any:
        return form_client.post(path, data, secure=True, HTTP_AUTHORIZATION=auth)

    return post
