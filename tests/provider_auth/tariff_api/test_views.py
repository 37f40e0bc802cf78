"""GET /api/v1/tariff and /api/v1/tariff/rates: data, errors, ETags, polling limit, budget."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import Contract, Direction
from provider_auth.oauth.models import AccessToken, OAuthClient
from provider_auth.oauth.services import grant_activate, grant_revoke

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"
RATES = "/api/v1/tariff/rates"


def assert_error(
    response: Any, status: HTTPStatus, code: str, type_: str = "invalid_request"
) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body == {"object": "error", "type": type_, "code": code, "message": body["message"]}
    assert body["message"]
    return body


# --- the current tariff --------------------------------------------------------------------
def test_the_current_tariff_is_returned_in_the_provider_format(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    response = api_get(TARIFF, access_token)
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["object"] == "tariff"
    assert body["name"] == contract.tariff.name
    assert body["direction"] == "IMPORT"
    assert body["currency"] == "GBP"
    assert body["timezone"] == "Europe/London"
    assert body["standing_charge"] == 0.45
    assert body["rules"][0]["unit_rate"] == 0.245
    assert body["premise"]["reference"] == contract.premise.reference
    assert body["premise"]["postal_address"]["post_code"] == "WC2N 5EH"
    assert body["contract_start_date"].endswith("Z")
    assert response["Cache-Control"] == "private, no-cache"


def test_format_flatpeak_returns_flatpeaks_tariff_element(api_get: Any, access_token: str) -> None:
    body = api_get(TARIFF, access_token, data={"format": "flatpeak"}).json()
    assert body["type"] == "COMMODITY"
    assert body["schedule"][0]["months"] == ["All"]
    hours = body["schedule"][0]["days_and_hours"][0]["hours"][0]
    assert hours["rate"][0]["value"] == 0.245


def test_an_unknown_format_is_invalid_request(api_get: Any, access_token: str) -> None:
    assert_error(
        api_get(TARIFF, access_token, data={"format": "xml"}),
        HTTPStatus.BAD_REQUEST,
        "invalid_format",
    )


def test_after_a_renewal_the_same_grant_sees_the_new_contract(
    api_get: Any, access_token: str, contract: Contract, make_contract: Any, make_tariff: Any
) -> None:
    now = timezone.now()
    Contract.objects.filter(pk=contract.pk).update(end_at=now - dt.timedelta(seconds=1))
    make_contract(
        premise=contract.premise,
        tariff=make_tariff(name="Renewed Saver", rules=[("00:00", "24:00", "0.1990")]),
        start_at=now - dt.timedelta(seconds=1),
        end_at=None,
    )
    body = api_get(TARIFF, access_token).json()
    assert body["name"] == "Renewed Saver"
    assert body["contract_end_date"] is None


def test_export_is_served_when_the_grant_covers_it(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any, make_tariff: Any
) -> None:
    make_contract(
        premise=contract.premise,
        tariff=make_tariff(name="Export Flat", rules=[("00:00", "24:00", "0.1500")]),
        direction=Direction.EXPORT,
    )
    _grant, issued = issue(directions=["IMPORT", "EXPORT"])
    body = api_get(TARIFF, issued.access_token, data={"direction": "EXPORT"}).json()
    assert (body["name"], body["direction"]) == ("Export Flat", "EXPORT")
    assert api_get(TARIFF, issued.access_token).json()["direction"] == "IMPORT"


@pytest.mark.spec("RFC6750 3.1")
def test_export_is_refused_when_the_grant_does_not_cover_it(
    api_get: Any, access_token: str
) -> None:
    response = api_get(TARIFF, access_token, data={"direction": "EXPORT"})
    assert_error(response, HTTPStatus.FORBIDDEN, "insufficient_scope")
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_an_unknown_direction_is_invalid_request(api_get: Any, access_token: str) -> None:
    assert_error(
        api_get(TARIFF, access_token, data={"direction": "SIDEWAYS"}),
        HTTPStatus.BAD_REQUEST,
        "invalid_direction",
    )


@pytest.mark.parametrize("path", [TARIFF, RATES])
def test_an_empty_direction_is_invalid_request_not_the_default(
    api_get: Any, access_token: str, path: str
) -> None:
    # The schema allows IMPORT or EXPORT; leaving the parameter out means the default.
    query = {"start_time": "2026-06-01T00:00:00Z", "end_time": "2026-06-02T00:00:00Z"}
    body = assert_error(
        api_get(path, access_token, data={**query, "direction": ""}),
        HTTPStatus.BAD_REQUEST,
        "invalid_direction",
    )
    assert "omit" in body["message"]
    assert api_get(path, access_token, data=query).status_code == HTTPStatus.OK


def test_no_contract_in_force_is_no_tariff(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    # Not in force yet (a later start): the supply has not ended, so the grant still works.
    Contract.objects.filter(pk=contract.pk).update(start_at=timezone.now() + dt.timedelta(days=1))
    assert_error(api_get(TARIFF, access_token), HTTPStatus.NOT_FOUND, "no_tariff")


# --- authentication ------------------------------------------------------------------------
@pytest.mark.spec("RFC6750 3")
def test_a_request_without_a_token_gets_a_bearer_challenge_without_error_code(api_get: Any) -> None:
    response = api_get(TARIFF)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "missing_token")
    assert response["WWW-Authenticate"] == 'Bearer realm="tariff"'


@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize("header", ["Bearer lat_unknown", "Bearer nope"])
def test_an_unknown_or_malformed_token_is_invalid_token(client: Any, header: str) -> None:
    response = client.get(TARIFF, HTTP_AUTHORIZATION=header, secure=True)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "invalid_token")
    assert response["WWW-Authenticate"].startswith('Bearer realm="tariff", error="invalid_token"')


@pytest.mark.spec("RFC6750 3.1")
def test_an_expired_access_token_is_invalid_token(api_get: Any, access_token: str) -> None:
    AccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_error(api_get(TARIFF, access_token), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_revoking_the_grant_locks_the_token_out_immediately(api_get: Any, issue: Any) -> None:
    grant, issued = issue()
    assert api_get(TARIFF, issued.access_token).status_code == HTTPStatus.OK
    grant_revoke(grant=grant, reason="customer_revoked")
    # The FlatPeak-style code says why; the RFC 6750 challenge still says invalid_token.
    response = api_get(TARIFF, issued.access_token)
    assert_error(response, HTTPStatus.UNAUTHORIZED, "grant_revoked")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_pending_grant_token_works_only_after_activation(api_get: Any, issue: Any) -> None:
    grant, issued = issue(pending=True)
    assert_error(api_get(TARIFF, issued.access_token), HTTPStatus.UNAUTHORIZED, "invalid_token")
    grant_activate(grant=grant)
    assert api_get(TARIFF, issued.access_token).status_code == HTTPStatus.OK


@pytest.mark.spec("RFC6750 3.1")
def test_a_token_without_the_tariff_scope_is_insufficient_scope(
    api_get: Any, access_token: str
) -> None:
    AccessToken.objects.update(scope="profile")
    response = api_get(TARIFF, access_token)
    assert_error(response, HTTPStatus.FORBIDDEN, "insufficient_scope")
    assert 'scope="tariff:read"' in response["WWW-Authenticate"]


def test_a_token_sent_in_the_query_string_is_not_accepted(api_get: Any, access_token: str) -> None:
    # RFC 9700 §2.5: never in URLs.
    response = api_get(TARIFF, data={"access_token": access_token})
    assert_error(response, HTTPStatus.UNAUTHORIZED, "missing_token")


def test_post_is_not_allowed(client: Any, access_token: str) -> None:
    response = client.post(TARIFF, HTTP_AUTHORIZATION=f"Bearer {access_token}", secure=True)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- ETag ----------------------------------------------------------------------------------
def test_an_unchanged_tariff_answers_304_to_if_none_match(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    first = api_get(TARIFF, access_token)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = api_get(TARIFF, access_token, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again.content == b""
    assert again["ETag"] == etag
    assert api_get(TARIFF, access_token, HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == (
        HTTPStatus.NOT_MODIFIED
    )
    contract.tariff.standing_charge = "0.5000"
    contract.tariff.save()
    changed = api_get(TARIFF, access_token, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == HTTPStatus.OK
    assert changed["ETag"] != etag


def test_the_etag_differs_between_formats(api_get: Any, access_token: str) -> None:
    provider = api_get(TARIFF, access_token)["ETag"]
    flatpeak = api_get(TARIFF, access_token, data={"format": "flatpeak"})["ETag"]
    assert provider != flatpeak


# --- polling limit -------------------------------------------------------------------------
@override_settings(TARIFF_POLL_LIMIT_PER_HOUR=3)
def test_polling_beyond_the_hourly_limit_is_rate_limited_and_304s_count(
    api_get: Any, access_token: str, issue: Any
) -> None:
    etag = api_get(TARIFF, access_token)["ETag"]
    assert (
        api_get(TARIFF, access_token, HTTP_IF_NONE_MATCH=etag).status_code
        == HTTPStatus.NOT_MODIFIED
    )
    assert (
        api_get(
            RATES,
            access_token,
            data={"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z"},
        ).status_code
        != HTTPStatus.TOO_MANY_REQUESTS
    )
    response = api_get(TARIFF, access_token)
    assert_error(response, HTTPStatus.TOO_MANY_REQUESTS, "rate_limit", type_="rate_limit")
    assert 1 <= int(response["Retry-After"]) <= 3600
    # another grant has its own budget
    assert api_get(TARIFF, issue()[1].access_token).status_code == HTTPStatus.OK


@override_settings(TARIFF_POLL_LIMIT_PER_HOUR=1)
def test_unauthenticated_requests_do_not_consume_a_grants_budget(
    api_get: Any, access_token: str
) -> None:
    for _ in range(3):
        api_get(TARIFF, "lat_wrong")
    assert api_get(TARIFF, access_token).status_code == HTTPStatus.OK


# --- query budget --------------------------------------------------------------------------
def test_a_tariff_request_costs_at_most_two_queries(
    api_get: Any, access_token: str, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):
        first = api_get(TARIFF, access_token)
    assert first.status_code == HTTPStatus.OK
    with django_assert_max_num_queries(2):
        assert (
            api_get(TARIFF, access_token, data={"format": "flatpeak"}).status_code == HTTPStatus.OK
        )
    with django_assert_max_num_queries(2):
        assert api_get(TARIFF, access_token, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_rates_request_costs_at_most_two_queries_even_across_a_renewal(
    api_get: Any,
    access_token: str,
    contract: Contract,
    make_contract: Any,
    django_assert_max_num_queries: Any,
) -> None:
    now = timezone.now().replace(microsecond=0)
    Contract.objects.filter(pk=contract.pk).update(end_at=now)
    make_contract(premise=contract.premise, start_at=now, end_at=None)
    params = {
        "start_time": (now - dt.timedelta(days=3)).isoformat(),
        "end_time": (now + dt.timedelta(days=3)).isoformat(),
    }
    with django_assert_max_num_queries(2):
        response = api_get(RATES, access_token, data=params)
    assert response.status_code == HTTPStatus.OK, response.content


def test_a_rejected_token_costs_one_query(
    api_get: Any, access_token: str, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        assert api_get(TARIFF, "lat_unknown").status_code == HTTPStatus.UNAUTHORIZED


# --- rates ---------------------------------------------------------------------------------
@pytest.fixture
def economy7(contract: Contract, make_tariff: Any) -> Contract:
    contract.tariff = make_tariff(
        name="Economy 7",
        rules=[
            ("00:00", "00:30", "0.3000"),
            ("00:30", "07:30", "0.1300"),
            ("07:30", "24:00", "0.3000"),
        ],
    )
    contract.start_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    contract.end_at = None
    contract.save()
    return contract


def rates(api_get: Any, token: str, start: str, end: str, **headers: str) -> Any:
    return api_get(RATES, token, data={"start_time": start, "end_time": end}, **headers)


def hours(interval: dict[str, Any]) -> float:
    start = dt.datetime.fromisoformat(interval["valid_from"])
    end = dt.datetime.fromisoformat(interval["valid_to"])
    return (end - start).total_seconds() / 3600


def test_rates_are_contiguous_utc_intervals_covering_the_range(
    api_get: Any, access_token: str, economy7: Contract
) -> None:
    response = rates(
        api_get, access_token, "2026-06-01T00:00:00+01:00", "2026-06-03T00:00:00+01:00"
    )
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    data = body["data"]
    assert (body["object"], body["currency"], body["direction"]) == ("rates", "GBP", "IMPORT")
    assert data[0]["valid_from"] == "2026-05-31T23:00:00Z"
    assert data[-1]["valid_to"] == "2026-06-02T23:00:00Z"
    assert all(a["valid_to"] == b["valid_from"] for a, b in zip(data, data[1:], strict=False))
    assert all(item["valid_from"].endswith("Z") for item in data)
    cheap = [item for item in data if item["unit_rate"] == 0.13]
    assert [c["valid_from"] for c in cheap] == ["2026-05-31T23:30:00Z", "2026-06-01T23:30:00Z"]


@pytest.mark.parametrize(
    ("day", "expected_hours"), [("2026-03-29", 6.0), ("2026-10-25", 8.0), ("2026-06-01", 7.0)]
)
def test_an_overnight_window_lasts_its_real_length_across_dst_changes(
    api_get: Any, access_token: str, economy7: Contract, day: str, expected_hours: float
) -> None:
    # London midnight of these days is 00:00Z (GMT) or 23:00Z the day before (BST).
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) - dt.timedelta(hours=2)
    end = start + dt.timedelta(hours=14)
    body = rates(api_get, access_token, start.isoformat(), end.isoformat()).json()
    cheap = [item for item in body["data"] if item["unit_rate"] == 0.13]
    assert len(cheap) == 1
    assert hours(cheap[0]) == expected_hours


def test_a_renewal_inside_the_range_switches_the_rate_at_the_contract_boundary(
    api_get: Any, access_token: str, contract: Contract, make_contract: Any, make_tariff: Any
) -> None:
    boundary = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    Contract.objects.filter(pk=contract.pk).update(
        start_at=boundary - dt.timedelta(days=30), end_at=boundary
    )
    make_contract(
        premise=contract.premise,
        tariff=make_tariff(name="Renewed", rules=[("00:00", "24:00", "0.1990")]),
        start_at=boundary,
        end_at=None,
    )
    data = rates(api_get, access_token, "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z").json()[
        "data"
    ]
    assert data == [
        {
            "valid_from": "2026-06-01T00:00:00Z",
            "valid_to": "2026-06-01T12:00:00Z",
            "unit_rate": 0.245,
        },
        {
            "valid_from": "2026-06-01T12:00:00Z",
            "valid_to": "2026-06-02T00:00:00Z",
            "unit_rate": 0.199,
        },
    ]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-06-01T00:00:00Z", "2026-06-08T00:00:01Z", "invalid_time_range"),
        ("2026-06-02T00:00:00Z", "2026-06-01T00:00:00Z", "invalid_time_range"),
        ("2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z", "invalid_time_range"),
        ("2026-06-01", "2026-06-02", "invalid_time"),
        ("2026-06-01T00:00:00", "2026-06-02T00:00:00", "invalid_time"),
        ("20260601T000000Z", "20260602T000000Z", "invalid_time"),
        ("2026-13-01T00:00:00Z", "2026-13-02T00:00:00Z", "invalid_time"),
        ("", "2026-06-02T00:00:00Z", "invalid_time"),
        ("9999-12-31T23:00:00Z", "9999-12-31T23:59:59-01:00", "invalid_time"),
        ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z", "invalid_time"),
    ],
)
def test_invalid_ranges_are_invalid_request(
    api_get: Any, access_token: str, start: str, end: str, code: str
) -> None:
    assert_error(rates(api_get, access_token, start, end), HTTPStatus.BAD_REQUEST, code)


def test_an_empty_range_where_start_time_equals_end_time_is_refused_as_documented(
    api_get: Any, access_token: str, economy7: Contract
) -> None:
    # end_time is exclusive: an equal pair names no instant, so it is refused, not an empty list.
    instant = "2026-06-01T00:00:00Z"
    assert_error(
        rates(api_get, access_token, instant, instant),
        HTTPStatus.BAD_REQUEST,
        "invalid_time_range",
    )
    one_second = rates(api_get, access_token, instant, "2026-06-01T00:00:01Z")
    assert one_second.status_code == HTTPStatus.OK
    assert len(one_second.json()["data"]) == 1
    from provider_auth.tariff_api.openapi import openapi_build

    document = openapi_build(base_url="https://testserver")
    end_time = document["paths"][RATES]["get"]["parameters"][1]
    assert end_time["name"] == "end_time"
    assert "equal" in end_time["description"]
    assert "invalid_time_range" in end_time["description"]


def test_exactly_seven_days_is_allowed(api_get: Any, access_token: str, economy7: Contract) -> None:
    response = rates(api_get, access_token, "2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z")
    assert response.status_code == HTTPStatus.OK


def test_rates_before_any_contract_are_no_tariff(
    api_get: Any, access_token: str, economy7: Contract
) -> None:
    response = rates(api_get, access_token, "2020-06-01T00:00:00Z", "2020-06-02T00:00:00Z")
    assert_error(response, HTTPStatus.NOT_FOUND, "no_tariff")


def test_rates_carry_an_etag(api_get: Any, access_token: str, economy7: Contract) -> None:
    first = rates(api_get, access_token, "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z")
    again = rates(
        api_get,
        access_token,
        "2026-06-01T00:00:00Z",
        "2026-06-02T00:00:00Z",
        HTTP_IF_NONE_MATCH=first["ETag"],
    )
    assert again.status_code == HTTPStatus.NOT_MODIFIED


def test_the_client_model_is_untouched_by_polling(api_get: Any, access_token: str) -> None:
    before = list(OAuthClient.objects.values())
    api_get(TARIFF, access_token)
    assert list(OAuthClient.objects.values()) == before


def test_a_renewal_on_the_same_tariff_yields_each_rule_once(
    api_get: Any, access_token: str, contract: Contract, make_contract: Any
) -> None:
    boundary = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    Contract.objects.filter(pk=contract.pk).update(
        start_at=boundary - dt.timedelta(days=30), end_at=boundary
    )
    make_contract(premise=contract.premise, tariff=contract.tariff, start_at=boundary, end_at=None)
    data = rates(api_get, access_token, "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z").json()[
        "data"
    ]
    assert [(d["valid_from"], d["valid_to"]) for d in data] == [
        ("2026-06-01T00:00:00Z", "2026-06-01T12:00:00Z"),
        ("2026-06-01T12:00:00Z", "2026-06-02T00:00:00Z"),
    ]
    body = api_get(TARIFF, access_token).json()
    assert len(body["rules"]) == 1
    assert body["contract_start_date"] == "2026-06-01T12:00:00Z"


def test_a_contract_end_written_without_save_is_seen_by_a_rates_body_already_written(
    api_get: Any, access_token: str, contract: Contract
) -> None:
    day = (timezone.now() + dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = (
        day.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (day + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    boundary = day + dt.timedelta(hours=12)
    Contract.objects.filter(pk=contract.pk).update(end_at=None)
    first = rates(api_get, access_token, start, end)
    assert first.json()["data"][-1]["valid_to"] == end
    # Ending at noon that day, written without save(): the contract's updated_at stays.
    Contract.objects.filter(pk=contract.pk).update(end_at=boundary)
    second = rates(api_get, access_token, start, end)
    assert second.status_code == HTTPStatus.OK, second.content
    assert second["ETag"] != first["ETag"]
    assert second.json()["data"][-1]["valid_to"] == boundary.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_deactivating_the_client_locks_its_tokens_out(
    api_get: Any, access_token: str, flatpeak_client: Any
) -> None:
    assert api_get(TARIFF, access_token).status_code == HTTPStatus.OK
    OAuthClient.objects.filter(pk=flatpeak_client[0].pk).update(is_active=False)
    assert_error(api_get(TARIFF, access_token), HTTPStatus.UNAUTHORIZED, "invalid_token")


def test_a_partner_reads_the_tariff_with_tokens_from_the_code_flow(
    client: Any, rf: Any, make_oauth_client: Any, contract: Contract, api_get: Any
) -> None:
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode

    from provider_auth.oauth.authorize import (
        authorization_code_issue,
        authorization_request_validate,
    )

    partner, secret = make_oauth_client(client_id="partner", redirect_uris=["https://p.example/cb"])
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "response_type": "code",
        "client_id": "partner",
        "redirect_uri": "https://p.example/cb",
        "state": "s1",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    request = rf.get("/oauth/authorize?" + urlencode(query))
    _grant, code = authorization_code_issue(
        authorization_request=authorization_request_validate(request),
        customer=contract.premise.customer,
        premise=contract.premise,
    )
    tokens = client.post(
        "/oauth/token",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://p.example/cb",
                "code_verifier": verifier,
                "client_id": "partner",
                "client_secret": secret,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        secure=True,
    ).json()
    body = api_get(TARIFF, tokens["access_token"]).json()
    assert body["premise"]["reference"] == contract.premise.reference
