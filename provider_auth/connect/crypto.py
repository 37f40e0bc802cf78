"""Encryption of the submission body while it waits for FlatPeak's acknowledgement.

Threat: between the customer's "Allow" and FlatPeak's acknowledgement we must be able to resend
the identical body (plaintext tokens included) after a transient failure, yet a database dump
must not hand out working tokens. The body is kept Fernet-encrypted (AES-CBC + HMAC) with a key
from FIELD_ENCRYPTION_KEY (or derived from SECRET_KEY) and erased once FlatPeak has it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(b"provider_auth.connect.payload|" + settings.SECRET_KEY.encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def payload_encrypt(payload: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(payload, sort_keys=True).encode()).decode()


def payload_decrypt(token: str) -> dict[str, Any]:
    """Raises ValueError when the value cannot be decrypted (key rotated, data damaged)."""
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, json.JSONDecodeError) as e:
        raise ValueError("undecryptable payload") from e
