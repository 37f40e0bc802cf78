"""The submission body is held encrypted until FlatPeak acknowledges it."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet

from provider_auth.connect.crypto import payload_decrypt, payload_encrypt

BODY = {"status": "AUTHORISED", "auth_data": {"access_token": "lat_secret-value"}}


def test_a_payload_survives_encryption_and_is_not_readable_at_rest() -> None:
    stored = payload_encrypt(BODY)
    assert "lat_secret-value" not in stored and "AUTHORISED" not in stored
    assert payload_decrypt(stored) == BODY


def test_field_encryption_key_is_used_when_set(settings: Any) -> None:
    key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = key
    stored = payload_encrypt(BODY)
    assert Fernet(key.encode()).decrypt(stored.encode())
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ValueError):
        payload_decrypt(stored)  # the SECRET_KEY-derived key cannot read it


def test_a_damaged_value_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        payload_decrypt("not-a-fernet-token")
