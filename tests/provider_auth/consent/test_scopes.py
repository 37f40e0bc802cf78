"""Data-type scopes: the tariff API shows only what the grant covers, in both formats."""

from __future__ import annotations

import importlib
from http import HTTPStatus
from typing import Any

import pytest
from django.apps import apps

from provider_auth.oauth.models import Grant, OAuthClient

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"
FULL = "address:read contract:read tariff:read"


@pytest.mark.spec("EU 2023/1162 art. 8 scope per data type")
@pytest.mark.spec("RFC6749 3.3")
@pytest.mark.parametrize("output", ["provider", "flatpeak"])
def test_tariff_read_alone_gets_no_address_and_no_contract_dates(
    api_get: Any, issue: Any, output: str
) -> None:
    _grant, issued = issue(scope="tariff:read")
    response = api_get(TARIFF, issued.access_token, data={"format": output})
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert "contract_start_date" not in body and "contract_end_date" not in body
    assert "postal_address" not in response.content.decode()
    assert body["currency"]  # the tariff itself is there
    if output == "provider":
        assert body["premise"] == {"reference": _grant.premise.reference}


@pytest.mark.parametrize("output", ["provider", "flatpeak"])
def test_every_data_type_is_shown_when_granted(api_get: Any, issue: Any, output: str) -> None:
    _grant, issued = issue(scope=FULL)
    body = api_get(TARIFF, issued.access_token, data={"format": output}).json()
    assert "contract_start_date" in body and "contract_end_date" in body
    if output == "provider":
        assert body["premise"]["postal_address"]["city"]


def test_contract_read_without_address_read(api_get: Any, issue: Any) -> None:
    _grant, issued = issue(scope="contract:read tariff:read")
    body = api_get(TARIFF, issued.access_token).json()
    assert "contract_start_date" in body
    assert "postal_address" not in body["premise"]


def test_documents_of_different_scopes_have_different_etags(api_get: Any, issue: Any) -> None:
    _g1, narrow = issue(scope="tariff:read")
    _g2, full = issue(scope=FULL)
    narrow_response = api_get(TARIFF, narrow.access_token)
    full_response = api_get(TARIFF, full.access_token)
    assert narrow_response["ETag"] != full_response["ETag"]
    # The narrow document is not served from the full one's cache entry, nor the reverse.
    assert "postal_address" in api_get(TARIFF, full.access_token).content.decode()
    assert "postal_address" not in api_get(TARIFF, narrow.access_token).content.decode()


def test_a_grant_without_tariff_read_is_insufficient_scope(api_get: Any, issue: Any) -> None:
    _grant, issued = issue(scope="address:read")
    response = api_get(TARIFF, issued.access_token)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "insufficient_scope"


def test_introspection_reports_the_grant_s_data_types(oauth_post: Any, issue: Any) -> None:
    _grant, issued = issue(scope="tariff:read")
    body = oauth_post("/oauth/introspect", {"token": issued.access_token}).json()
    assert body["active"] is True
    assert body["scope"] == "tariff:read"
    assert "postal_address" not in body


def test_existing_tariff_read_grants_and_clients_are_widened_to_what_they_were_shown(
    issue: Any, flatpeak_client: Any, make_oauth_client: Any
) -> None:
    grant, issued = issue(scope="tariff:read")
    narrow_partner, _ = make_oauth_client(client_id="other", name="Other")
    OAuthClient.objects.filter(pk=narrow_partner.pk).update(scopes=["tariff:read", "x"])
    migration = importlib.import_module("provider_auth.oauth.migrations.0002_consent_lifecycle")
    migration.widen(apps, None)
    grant.refresh_from_db()
    assert grant.scope == FULL
    assert grant.access_tokens.get().scope == FULL
    assert grant.refresh_tokens.get().scope == FULL
    flatpeak_client[0].refresh_from_db()
    assert sorted(flatpeak_client[0].scopes) == FULL.split()
    narrow_partner.refresh_from_db()
    assert narrow_partner.scopes == ["tariff:read", "x"]  # anything else is left alone
    migration.narrow(apps, None)
    assert Grant.objects.get(pk=grant.pk).scope == "tariff:read"


def test_flatpeak_connect_flow_asks_for_every_data_type() -> None:
    from provider_auth.connect.services import SCOPE

    assert SCOPE.split() == sorted(["tariff:read", "contract:read", "address:read"])


@pytest.mark.parametrize("output", ["provider", "flatpeak"])
def test_narrow_documents_and_grant_end_errors_match_the_openapi_document(
    api_get: Any, issue: Any, output: str
) -> None:
    from provider_auth.oauth.services import grant_revoke
    from tests.provider_auth.tariff_api.test_openapi import assert_matches

    grant, issued = issue(scope="tariff:read")
    response = api_get(TARIFF, issued.access_token, data={"format": output})
    assert_matches(response, "/api/v1/tariff")
    grant_revoke(grant=grant, reason="customer")
    response = api_get(TARIFF, issued.access_token, data={"format": output})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert_matches(response, "/api/v1/tariff")
