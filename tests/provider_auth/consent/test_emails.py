"""Mails about grants: on creation and on an end the customer did not choose, after commit only;
a failing mail server loses nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from accounts.models import Contract
from provider_auth.consent.services import grants_end_due
from provider_auth.oauth.models import Grant, GrantStatus
from provider_auth.oauth.services import grant_revoke

pytestmark = pytest.mark.django_db


@pytest.mark.spec("EU 2023/1162 art. 8 grant and revoke")
def test_a_new_grant_is_mailed_after_commit(
    issue: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        grant, _ = issue()
        assert mail.outbox == []  # not before the commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "FlatPeak can now read your tariff"
    assert mail.outbox[0].to == [grant.customer.email]


def test_a_rolled_back_grant_sends_nothing(
    issue: Any, django_capture_on_commit_callbacks: Any
) -> None:
    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Abort), transaction.atomic():
            issue()
            raise Abort
    assert mail.outbox == []
    assert not Grant.objects.exists()


def test_a_pending_grant_is_not_announced(
    issue: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issue(pending=True)
    assert mail.outbox == []


@pytest.mark.spec("EU 2023/1162 art. 8 end of validity")
@pytest.mark.parametrize("how", ["expiry", "move_out"])
def test_an_end_the_customer_did_not_choose_is_mailed(
    issue: Any, contract: Contract, how: str, django_capture_on_commit_callbacks: Any
) -> None:
    grant, _ = issue()
    if how == "expiry":
        Grant.objects.filter(pk=grant.pk).update(
            consent_expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    else:
        Contract.objects.filter(pk=contract.pk).update(
            end_at=timezone.now() - dt.timedelta(minutes=1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_end_due() == 1
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "FlatPeak can no longer read your tariff"
    assert ("expired" in body) if how == "expiry" else ("has ended" in body)
    assert "/account/connected-apps/" in body


def test_a_revocation_the_customer_chose_is_not_mailed(
    issue: Any, django_capture_on_commit_callbacks: Any
) -> None:
    grant, _ = issue()
    with django_capture_on_commit_callbacks(execute=True):
        grant_revoke(grant=grant, reason="customer", actor=grant.customer)
    assert mail.outbox == []


def test_a_mail_failure_loses_neither_the_grant_nor_the_end(
    issue: Any, contract: Contract, django_capture_on_commit_callbacks: Any
) -> None:
    with mock.patch(
        "provider_auth.consent.emails.send_mail", side_effect=ConnectionRefusedError("smtp down")
    ):
        with django_capture_on_commit_callbacks(execute=True):
            grant, _ = issue()
        Grant.objects.filter(pk=grant.pk).update(
            consent_expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert grants_end_due() == 1
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED
    assert grant.end_reason == "grant_expired"


def test_the_mails_are_in_german(issue: Any, django_capture_on_commit_callbacks: Any) -> None:
    with override("de"), django_capture_on_commit_callbacks(execute=True):
        issue()
    assert mail.outbox[0].subject == "FlatPeak kann jetzt Ihren Tarif lesen"
    assert "Ihre Lieferadresse" in mail.outbox[0].body
