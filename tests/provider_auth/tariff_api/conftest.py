"""Fixtures for the tariff API: a premise with a contract and FlatPeak holding a live grant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import Contract
from provider_auth.oauth.services import IssuedTokens, grant_issue
from provider_auth.tariff_api.documents import documents


@pytest.fixture(autouse=True)
def _empty_documents() -> Iterator[None]:
    # Documents live in each worker's memory and database ids are reused between tests. (Poll
    # counters need no clearing: each test has a key space of its own, and clearing a Redis
    # shared with parallel workers would wipe their counters mid-test.)
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
def access_token(issue: Callable[..., Any]) -> str:
    return issue()[1].access_token


@pytest.fixture
def api_get(client: Client) -> Callable[..., Any]:
    def get(path: str, token: str | None = None, **extra: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return client.get(path, secure=True, **headers, **extra)

    return get
