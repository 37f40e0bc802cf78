from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from accounts.models import User


@pytest.mark.django_db
def test_email_login_is_case_insensitive(rf):
    User.objects.create_user(email="Alice@Example.com", password="alice-demo-pass")
    request = rf.post("/")
    user = authenticate(request, username="ALICE@example.COM", password="alice-demo-pass")
    assert user is not None
    assert user.email == "alice@example.com"


@pytest.mark.django_db
def test_two_customers_cannot_share_an_email_in_any_case():
    User.objects.create_user(email="bob@example.com", password="x-long-password")
    with pytest.raises(IntegrityError):
        User.objects.create(email="BOB@example.com")
