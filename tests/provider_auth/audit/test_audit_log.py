from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from provider_auth.audit.models import AuditEvent
from provider_auth.audit.services import audit_record


@pytest.mark.spec("ASVS 7.3.3")
def test_an_audit_event_cannot_be_changed_through_the_orm(db: None) -> None:
    event = audit_record(event="login.failed")
    event.event = "nothing.happened"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(event="nothing.happened")


def test_deleting_a_customer_keeps_their_audit_events_without_the_link(
    make_customer: Any,
) -> None:
    customer = make_customer()
    audit_record(event="consent.given", customer=customer, actor=customer)
    customer.delete()
    event = AuditEvent.objects.get(event="consent.given")
    assert event.customer is None and event.actor is None


@pytest.mark.postgres
@pytest.mark.spec("ASVS 7.3.3")
def test_postgresql_refuses_an_update_of_an_audit_row_from_any_client(db: None) -> None:
    event = audit_record(event="login.failed", detail={"known": False})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET event = %s WHERE id = %s", ["tampered", event.pk]
        )
    event.refresh_from_db()
    assert event.event == "login.failed"


@pytest.mark.postgres
def test_postgresql_still_lets_a_deleted_customer_be_forgotten(make_customer: Any) -> None:
    customer = make_customer()
    audit_record(event="consent.given", customer=customer)
    customer.delete()
    assert AuditEvent.objects.get(event="consent.given").customer_id is None


@pytest.fixture
def staff_client(make_customer: Any) -> Client:
    staff = make_customer(email="staff@example.com", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    return browser


def test_staff_can_read_the_audit_log_in_the_admin(staff_client: Client, db: None) -> None:
    event = audit_record(event="grant.revoked", detail={"grant_id": 7, "reason": "customer"})
    listing = staff_client.get("/admin/audit/auditevent/", secure=True)
    assert listing.status_code == HTTPStatus.OK
    assert "grant.revoked" in listing.content.decode()
    detail = staff_client.get(f"/admin/audit/auditevent/{event.pk}/change/", secure=True)
    assert detail.status_code == HTTPStatus.OK


def test_nobody_can_add_change_or_delete_audit_events_in_the_admin(
    staff_client: Client, db: None
) -> None:
    event = audit_record(event="grant.revoked")
    assert staff_client.get("/admin/audit/auditevent/add/", secure=True).status_code == 403
    staff_client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"event": "x"}, secure=True)
    deleted = staff_client.post(
        f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}, secure=True
    )
    assert deleted.status_code == HTTPStatus.FORBIDDEN
    event.refresh_from_db()
    assert event.event == "grant.revoked"
