"""The authorization endpoint's logic: validation, approval, denial (no pages here)."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.utils import timezone

from provider_auth.oauth import tokens
from provider_auth.oauth.authorize import (
    AuthorizationRequestInvalid,
    authorization_code_issue,
    authorization_error_response,
    authorization_request_validate,
    authorization_response_uri,
)
from provider_auth.oauth.models import AuthorizationCode, Grant, GrantStatus

from .conftest import REDIRECT_URI, authorize_query, location_query

pytestmark = pytest.mark.django_db


def approve(request: Any, *, customer: Any, premise: Any) -> str:
    """What the authorize page does once the customer allows: a code, and where it goes."""
    authorization_request = authorization_request_validate(request)
    _grant, code = authorization_code_issue(
        authorization_request=authorization_request, customer=customer, premise=premise
    )
    return authorization_response_uri(authorization_request=authorization_request, code=code)


def uri_query(uri: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(uri).query))


def validate(rf: RequestFactory, query: dict[str, str] | str) -> Any:
    qs = query if isinstance(query, str) else urlencode(query)
    return authorization_request_validate(rf.get("/oauth/authorize?" + qs))


def refused(rf: RequestFactory, query: dict[str, str] | str) -> AuthorizationRequestInvalid:
    with pytest.raises(AuthorizationRequestInvalid) as caught:
        validate(rf, query)
    return caught.value


def test_a_valid_request_is_returned_with_its_fields(rf: RequestFactory, partner: Any) -> None:
    query = authorize_query()
    result = validate(rf, query)
    assert result.client == partner[0]
    assert result.redirect_uri == REDIRECT_URI
    assert result.scope == "tariff:read"
    assert result.state == "xyz-state"
    assert result.code_challenge == query["code_challenge"]
    assert result.code_challenge_method == "S256"


def test_an_omitted_scope_defaults_to_the_clients_scopes(rf: RequestFactory, partner: Any) -> None:
    assert validate(rf, authorize_query(scope=None)).scope == "tariff:read"


@pytest.mark.spec("RFC6749 4.1.2.1")
def test_an_unknown_client_is_not_redirectable(rf: RequestFactory, partner: Any) -> None:
    error = refused(rf, authorize_query(client_id="nobody"))
    assert error.redirectable is False
    assert error.error == "invalid_client"
    with pytest.raises(ValueError):
        authorization_error_response(error=error)


def test_an_inactive_client_is_treated_as_unknown(rf: RequestFactory, partner: Any) -> None:
    partner[0].is_active = False
    partner[0].save()
    assert refused(rf, authorize_query()).redirectable is False


@pytest.mark.spec("RFC6749 4.1.2.1")
@pytest.mark.spec("RFC9700 2.1")
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        REDIRECT_URI + "/extra",
        REDIRECT_URI + "?x=1",
        REDIRECT_URI.upper(),
        "",
    ],
)
def test_a_redirect_uri_that_is_not_exactly_registered_is_not_redirectable(
    rf: RequestFactory, partner: Any, redirect_uri: str
) -> None:
    error = refused(rf, authorize_query(redirect_uri=redirect_uri or None))
    assert error.redirectable is False
    assert error.redirect_uri == ""


def test_a_repeated_redirect_uri_is_not_redirectable(rf: RequestFactory, partner: Any) -> None:
    qs = urlencode(authorize_query()) + "&redirect_uri=" + "https%3A%2F%2Fevil.example%2F"
    assert refused(rf, qs).redirectable is False


@pytest.mark.spec("RFC7636 4.4.1")
def test_missing_pkce_redirects_invalid_request_with_state(
    rf: RequestFactory, partner: Any
) -> None:
    error = refused(rf, authorize_query(code_challenge=None, code_challenge_method=None))
    assert error.redirectable is True
    response = authorization_error_response(error=error)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(REDIRECT_URI + "?")
    query = location_query(response)
    assert query["error"] == "invalid_request"
    assert query["state"] == "xyz-state"


@pytest.mark.spec("RFC9700 2.1.1")
@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_a_code_challenge_method_other_than_s256_is_refused(
    rf: RequestFactory, partner: Any, method: str | None
) -> None:
    error = refused(rf, authorize_query(code_challenge_method=method))
    assert (error.redirectable, error.error) == (True, "invalid_request")


def test_a_malformed_code_challenge_is_refused(rf: RequestFactory, partner: Any) -> None:
    assert refused(rf, authorize_query(code_challenge="short")).error == "invalid_request"


@pytest.mark.spec("RFC9700 2.1.2")
@pytest.mark.parametrize("response_type", ["token", "code token", "id_token"])
def test_response_types_other_than_code_are_unsupported(
    rf: RequestFactory, partner: Any, response_type: str
) -> None:
    error = refused(rf, authorize_query(response_type=response_type))
    assert (error.redirectable, error.error) == (True, "unsupported_response_type")


@pytest.mark.spec("RFC6749 4.1.2.1")
@pytest.mark.parametrize("response_type", [None, ""])
def test_a_missing_response_type_is_invalid_request(
    rf: RequestFactory, partner: Any, response_type: str | None
) -> None:
    error = refused(rf, authorize_query(response_type=response_type))
    assert (error.redirectable, error.error) == (True, "invalid_request")


@pytest.mark.spec("RFC7636 4.2")
@pytest.mark.parametrize(
    "code_challenge",
    [
        "a" * 42,
        "a" * 44,
        "a" * 128,  # the 43-128 of RFC 7636 4.1 is the verifier's length, not S256's output
        "a" * 42 + "=",  # padding
        "a" * 42 + "+",  # base64, not base64url
        "a" * 42 + ".",  # unreserved, but not base64url
        "a" * 42 + "~",
    ],
)
def test_an_s256_code_challenge_must_be_43_base64url_characters(
    rf: RequestFactory, partner: Any, code_challenge: str
) -> None:
    error = refused(rf, authorize_query(code_challenge=code_challenge))
    assert (error.redirectable, error.error) == (True, "invalid_request")


@pytest.mark.spec("RFC7636 4.2")
def test_a_43_character_base64url_challenge_is_accepted(rf: RequestFactory, partner: Any) -> None:
    query = authorize_query(code_challenge="Az09-_" * 7 + "x")
    assert authorization_request_validate(rf.get("/oauth/authorize", query)).code_challenge


def test_a_scope_outside_the_clients_scopes_is_invalid_scope(
    rf: RequestFactory, partner: Any
) -> None:
    error = refused(rf, authorize_query(scope="tariff:read tariff:write"))
    assert (error.redirectable, error.error) == (True, "invalid_scope")


def test_a_client_without_the_code_grant_is_unauthorized(
    rf: RequestFactory, make_oauth_client: Any
) -> None:
    make_oauth_client(
        client_id="partner", redirect_uris=[REDIRECT_URI], grant_types=["refresh_token"]
    )
    assert refused(rf, authorize_query()).error == "unauthorized_client"


def test_a_repeated_state_is_refused(rf: RequestFactory, partner: Any) -> None:
    assert refused(rf, urlencode(authorize_query()) + "&state=other").error == "invalid_request"


@override_settings(OAUTH_PKCE_REQUIRED=False)
def test_pkce_may_be_switched_off_but_plain_is_still_refused(
    rf: RequestFactory, partner: Any
) -> None:
    result = validate(rf, authorize_query(code_challenge=None, code_challenge_method=None))
    assert result.code_challenge == ""
    assert refused(rf, authorize_query(code_challenge_method="plain")).error == "invalid_request"


@pytest.mark.spec("RFC6749 4.1.2")
def test_approval_redirects_with_a_code_stored_only_as_a_hash(
    rf: RequestFactory, partner: Any, customer_premise: Any
) -> None:
    customer, premise = customer_premise
    request = rf.get("/oauth/authorize?" + urlencode(authorize_query()))
    query = uri_query(approve(request, customer=customer, premise=premise))
    assert query["state"] == "xyz-state"
    assert query["iss"] == settings.PUBLIC_BASE_URL
    code = query["code"]
    stored = AuthorizationCode.objects.get()
    assert stored.code_hash == tokens.secret_hash(code)
    assert code not in str(list(AuthorizationCode.objects.values()))
    assert stored.expires_at - stored.created_at <= dt.timedelta(minutes=10)
    grant = Grant.objects.get()
    assert grant.status == GrantStatus.PENDING
    assert (grant.customer, grant.premise, grant.client) == (customer, premise, partner[0])
    assert grant.directions == ["IMPORT"]


def test_approval_keeps_a_query_the_registered_uri_already_has(
    rf: RequestFactory, make_oauth_client: Any, customer_premise: Any
) -> None:
    uri = "https://partner.example/cb?tenant=7"
    make_oauth_client(client_id="partner", redirect_uris=[uri])
    request = rf.get("/oauth/authorize?" + urlencode(authorize_query(redirect_uri=uri)))
    customer, premise = customer_premise
    location = approve(request, customer=customer, premise=premise)
    assert location.startswith("https://partner.example/cb?tenant=7&code=")


def test_approval_for_another_customers_premise_is_refused(
    rf: RequestFactory, partner: Any, customer_premise: Any, make_customer: Any
) -> None:
    _customer, premise = customer_premise
    request = rf.get("/oauth/authorize?" + urlencode(authorize_query()))
    with pytest.raises(PermissionError):
        approve(request, customer=make_customer(), premise=premise)
    assert not Grant.objects.exists()


@pytest.mark.spec("RFC6749 4.1.2.1")
def test_denial_redirects_access_denied_with_state(rf: RequestFactory, partner: Any) -> None:
    query = uri_query(
        authorization_response_uri(authorization_request=validate(rf, authorize_query()), code=None)
    )
    assert query["error"] == "access_denied"
    assert query["state"] == "xyz-state"
    assert "code" not in query


def test_codes_expire_after_the_setting_capped_at_ten_minutes(
    obtain_code: Any,
) -> None:
    with override_settings(OAUTH_CODE_SECONDS=3600):
        obtain_code()
    stored = AuthorizationCode.objects.get()
    assert stored.expires_at <= timezone.now() + dt.timedelta(minutes=10)
