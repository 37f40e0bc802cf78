from __future__ import annotations

import pytest
from django.test import override_settings

from provider_auth.audit.models import AuditEvent
from provider_auth.audit.services import audit_record


@pytest.mark.django_db
@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_audit_records_the_client_ip_our_proxy_saw_not_the_proxy(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    audit_record(event="test.event", request=request)
    assert AuditEvent.objects.get().ip_address == "203.0.113.9"


@pytest.mark.django_db
def test_audit_ignores_forwarded_for_without_trusted_proxies(rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    audit_record(event="test.event", request=request)
    assert AuditEvent.objects.get().ip_address == "198.51.100.7"
