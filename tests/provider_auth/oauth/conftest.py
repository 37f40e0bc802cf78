"""Helpers for the OAuth server tests: PKCE pairs, authorize requests, token calls."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client, RequestFactory

from accounts.models import Premise, User
from provider_auth.oauth.authorize import authorization_code_issue, authorization_request_validate
from provider_auth.oauth.models import OAuthClient
from provider_auth.oauth.services import grant_issue

REDIRECT_URI = "https://partner.example/callback"


FORM = "application/x-www-form-urlencoded"


class FormClient(Client):
    """A test client whose POST bodies are form-urlencoded, as OAuth clients send them (the
    client endpoints refuse Django's default multipart bodies, RFC 6749 §3.2)."""

    def post(self, path: str, data: Any = None, content_type: str = FORM, **extra: Any) -> Any:  # type: ignore[override]
        if content_type == FORM and isinstance(data, dict):
            data = urlencode(data, doseq=True)
        return super().post(path, data, content_type=content_type, **extra)


@pytest.fixture
def client() -> FormClient:
    return FormClient()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize_query(client_id: str = "partner", **overrides: Any) -> dict[str, str]:
    _verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "tariff:read",
        "state": "xyz-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def location_query(response: Any) -> dict[str, str]:
    parts = urlsplit(response["Location"])
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def partner(make_oauth_client: Callable[..., tuple[OAuthClient, str]]) -> tuple[OAuthClient, str]:
    return make_oauth_client(client_id="partner", name="Partner App", redirect_uris=[REDIRECT_URI])


@pytest.fixture
def flatpeak(make_oauth_client: Callable[..., tuple[OAuthClient, str]]) -> tuple[OAuthClient, str]:
    return make_oauth_client(client_id="flatpeak", name="FlatPeak")


@pytest.fixture
def customer_premise(make_contract: Callable[..., Any]) -> tuple[User, Premise]:
    contract = make_contract()
    return contract.premise.customer, contract.premise


@pytest.fixture
def obtain_code(
    rf: RequestFactory, partner: tuple[OAuthClient, str], customer_premise: tuple[User, Premise]
) -> Callable[..., tuple[str, str]]:
    """Runs the authorization step for `partner`; returns (code, code_verifier)."""

    def obtain(**overrides: Any) -> tuple[str, str]:
        verifier, challenge = pkce_pair()
        query = authorize_query(code_challenge=challenge, **overrides)
        request = rf.get("/oauth/authorize?" + urlencode(query))
        authorization_request = authorization_request_validate(request)
        customer, premise = customer_premise
        _grant, code = authorization_code_issue(
            authorization_request=authorization_request, customer=customer, premise=premise
        )
        return code, verifier

    return obtain


@pytest.fixture
def active_tokens(
    flatpeak: tuple[OAuthClient, str], customer_premise: tuple[User, Premise]
) -> Callable[..., Any]:
    """An ACTIVE grant for FlatPeak (as the connect flow leaves it) and its first token pair."""

    def make(**kwargs: Any) -> Any:
        customer, premise = customer_premise
        return grant_issue(
            customer=customer,
            premise=premise,
            client=flatpeak[0],
            directions=kwargs.pop("directions", ["IMPORT"]),
            **kwargs,
        )

    return make


@pytest.fixture
def token_post(client: Client) -> Callable[..., Any]:
    def post(data: dict[str, str], *, auth: tuple[str, str] | None = None, **extra: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": basic(*auth)} if auth else {}
        return client.post("/oauth/token", data, secure=True, **headers, **extra)

    return post
