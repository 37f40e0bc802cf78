"""A grant's end: expiry, the supply ending, revocation; each through a live token."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Contract
from provider_auth.audit.models import AuditEvent
from provider_auth.consent.services import grants_end_due
from provider_auth.oauth.models import Grant, GrantEndReason, GrantStatus, OAuthClient
from provider_auth.oauth.services import grant_revoke

pytestmark = pytest.mark.django_db

TARIFF = "/api/v1/tariff"
RATES = "/api/v1/tariff/rates"


def _expire(grant: Grant) -> None:
    Grant.objects.filter(pk=grant.pk).update(
        consent_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def _move_out(contract: Contract) -> None:
    # The premise's last contract ends with no successor.
    Contract.objects.filter(pk=contract.pk).update(end_at=timezone.now() - dt.timedelta(hours=1))


def _revoke(grant: Grant) -> None:
    grant_revoke(grant=grant, reason="customer", actor=grant.customer)


ENDINGS = {
    "grant_expired": lambda grant, contract: _expire(grant),
    "supply_ended": lambda grant, contract: _move_out(contract),
    "grant_revoked": lambda grant, contract: _revoke(grant),
}


def _rates_query() -> dict[str, str]:
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    return {
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
@pytest.mark.spec("RFC6750 3.1")
@pytest.mark.parametrize("code", list(ENDINGS))
@pytest.mark.parametrize("path", [TARIFF, RATES])
def test_an_ended_grant_stops_working_at_once_and_says_why(
    api_get: Any, issue: Any, contract: Contract, code: str, path: str
) -> None:
    grant, issued = issue()
    query = _rates_query() if path == RATES else {}
    assert api_get(path, issued.access_token, data=query).status_code == HTTPStatus.OK
    ENDINGS[code](grant, contract)
    response = api_get(path, issued.access_token, data=query)  # no cleanup job has run
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    body = response.json()
    assert (body["object"], body["type"], body["code"]) == ("error", "invalid_request", code)
    assert body["message"]
    assert response["WWW-Authenticate"].startswith('Bearer realm="tariff", error="invalid_token"')


@pytest.mark.parametrize("code", list(ENDINGS))
def test_the_end_check_rides_on_the_token_query(
    api_get: Any, issue: Any, contract: Contract, code: str, django_assert_num_queries: Any
) -> None:
    grant, issued = issue()
    ENDINGS[code](grant, contract)
    with django_assert_num_queries(1):
        response = api_get(TARIFF, issued.access_token)
    assert response.json()["code"] == code


def test_a_working_grant_still_costs_at_most_two_queries(
    api_get: Any, issue: Any, django_assert_max_num_queries: Any
) -> None:
    _grant, issued = issue()
    with django_assert_max_num_queries(2):
        assert api_get(TARIFF, issued.access_token).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(2):
        assert api_get(RATES, issued.access_token, data=_rates_query()).status_code == 200


@pytest.mark.spec("RFC6749 5.2")
@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
@pytest.mark.parametrize("code", list(ENDINGS))
def test_a_refresh_of_an_ended_grant_is_invalid_grant_naming_the_reason(
    oauth_post: Any, issue: Any, contract: Contract, code: str
) -> None:
    grant, issued = issue()
    ENDINGS[code](grant, contract)
    response = oauth_post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": issued.refresh_token}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert code in body["error_description"]


@pytest.mark.spec("RFC7662 2.2")
@pytest.mark.parametrize("code", list(ENDINGS))
def test_introspection_of_an_ended_grant_is_inactive(
    oauth_post: Any, issue: Any, contract: Contract, code: str
) -> None:
    grant, issued = issue()
    assert oauth_post("/oauth/introspect", {"token": issued.access_token}).json()["active"]
    ENDINGS[code](grant, contract)
    for value in (issued.access_token, issued.refresh_token):
        assert oauth_post("/oauth/introspect", {"token": value}).json() == {"active": False}


def _renew(contract: Contract, make_contract: Any) -> Contract:
    """The contract ended an hour ago and its successor at the same premise started then."""
    ended = timezone.now() - dt.timedelta(hours=1)
    Contract.objects.filter(pk=contract.pk).update(end_at=ended)
    return make_contract(
        premise=contract.premise, tariff=contract.tariff, start_at=ended, end_at=None
    )


def _renewal_keeps_and_move_out_ends(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any
) -> None:
    grant, issued = issue()
    successor = _renew(contract, make_contract)
    assert api_get(TARIFF, issued.access_token).status_code == HTTPStatus.OK
    assert grants_end_due() == 0
    # Then the customer moves out: the successor ends too, nothing follows it.
    _move_out(successor)
    assert api_get(TARIFF, issued.access_token).json()["code"] == "supply_ended"
    assert grants_end_due() == 1
    grant.refresh_from_db()
    assert (grant.status, grant.end_reason) == (GrantStatus.REVOKED, GrantEndReason.SUPPLY_ENDED)


@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
def test_a_renewal_keeps_the_grant_and_a_move_out_ends_it(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any
) -> None:
    _renewal_keeps_and_move_out_ends(api_get, issue, contract, make_contract)


@pytest.mark.postgres
def test_a_renewal_keeps_the_grant_and_a_move_out_ends_it_on_postgresql(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any
) -> None:
    _renewal_keeps_and_move_out_ends(api_get, issue, contract, make_contract)


def test_a_successor_that_starts_later_still_keeps_the_grant(
    api_get: Any, issue: Any, contract: Contract, make_contract: Any
) -> None:
    grant, issued = issue()
    Contract.objects.filter(pk=contract.pk).update(end_at=timezone.now() - dt.timedelta(days=1))
    make_contract(premise=contract.premise, start_at=timezone.now() + dt.timedelta(days=2))
    assert api_get(TARIFF, issued.access_token).json()["code"] == "no_tariff"  # not ended
    assert grants_end_due() == 0


def test_a_client_consent_expiry_sets_the_grant_end(issue: Any, flatpeak_client: Any) -> None:
    OAuthClient.objects.filter(pk=flatpeak_client[0].pk).update(consent_days=90)
    flatpeak_client[0].refresh_from_db()
    before = timezone.now()
    grant, _issued = issue()
    assert grant.purpose == "tariff_sync"
    assert grant.consent_expires_at is not None
    assert before + dt.timedelta(days=90) <= grant.consent_expires_at
    assert grant.consent_expires_at <= timezone.now() + dt.timedelta(days=90)


def test_without_a_consent_expiry_the_grant_has_none(issue: Any) -> None:
    grant, _issued = issue()
    assert grant.consent_expires_at is None


@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
def test_cleanup_ends_due_grants_with_the_same_state_and_an_audit_event(
    issue: Any, contract: Contract, make_contract: Any, make_premise: Any
) -> None:
    expired, _ = issue()
    _expire(expired)
    other = make_contract(premise=make_premise())
    moved, _ = issue(premise=other.premise)
    _move_out(other)
    kept, _ = issue()
    out = __import__("io").StringIO()
    call_command("cleanup", "--only", "grants whose end", stdout=out)
    assert "grants whose end has passed (consent expired, supply ended): 2 ended" in out.getvalue()
    for grant, reason in ((expired, "grant_expired"), (moved, "supply_ended")):
        grant.refresh_from_db()
        assert grant.status == GrantStatus.REVOKED
        assert grant.end_reason == reason
        assert grant.revoked_at is not None
        assert grant.access_tokens.filter(revoked_at__isnull=True).count() == 0
        event = AuditEvent.objects.get(event="grant.revoked", detail__grant_id=grant.pk)
        assert event.detail["end_reason"] == reason
        assert event.customer_id == grant.customer_id
    kept.refresh_from_db()
    assert kept.status == GrantStatus.ACTIVE
    assert grants_end_due() == 0  # idempotent


def test_revocation_by_customer_and_staff_leaves_the_same_ended_state(issue: Any) -> None:
    by_customer, _ = issue()
    by_staff, _ = issue()
    grant_revoke(grant=by_customer, reason="customer", actor=by_customer.customer)
    grant_revoke(grant=by_staff, reason="admin_revoked")
    for grant in (by_customer, by_staff):
        grant.refresh_from_db()
        assert (grant.status, grant.end_reason) == (GrantStatus.REVOKED, "grant_revoked")
        assert AuditEvent.objects.filter(event="grant.revoked", detail__grant_id=grant.pk).exists()
