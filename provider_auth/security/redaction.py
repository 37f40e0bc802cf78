"""Keep secrets out of logs.

Threat: logs are shipped to many systems and read by many people; a token or password in a log
line is a credential leak. This filter rewrites every record (message, args, extra fields and
the exception text) so that bearer tokens, our token prefixes, passwords, Authorization headers,
client secrets and the configured secret settings are masked, and connect tokens are shortened
to `cot_…a97` (enough to find a support case, useless to an attacker).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from django.conf import settings

_CONNECT_TOKEN = re.compile(r"\bcot_[0-9a-f]{21}([0-9a-f]{3})\b")
_OUR_SECRETS = re.compile(r"\b(lat|lrt|lac|lcs)_[A-Za-z0-9_-]{20,}")
# "Authorization: Bearer x", "'HTTP_AUTHORIZATION': 'Basic x'", "authorization=Bearer x".
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic|digest|token)\s+[^\s,'\"}&]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*(?=$|[\s,;'\"}&)\]])")
# key=value / "key": "value" for secret-bearing keys; "status_code" and "token_type" stay.
_KEY_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9_])([\"']?(?:(?:[a-z0-9]+_)*(?:password|passwd|secret|token|api_?key)|"
    r"code|code_verifier|otp|otp_code|auth_code|authorization_code|csrfmiddlewaretoken)"
    r"[\"']?\s*[:=]\s*[\"']?)([^\s&,'\"}]+)"
)
_MIN_LITERAL = 8
_SECRET_SETTINGS = (
    "FLATPEAK_API_KEY",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "METRICS_TOKEN",
    "SANDBOX_OAUTH_CLIENT_SECRET",
    "EMAIL_HOST_PASSWORD",
)


@lru_cache(maxsize=4)
def _literal_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    usable = sorted({v for v in values if len(v) >= _MIN_LITERAL}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in usable)) if usable else None


def _secret_settings_pattern() -> re.Pattern[str] | None:
    try:
        values = tuple(str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS)
    except Exception:  # settings not configured (a script logging before setup)
        return None
    return _literal_pattern(values)


def _key_value(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.startswith("cot_") or value.startswith("[REDACTED]") or value.endswith("]"):
        return match.group(0)  # already shortened / masked
    return match.group(1) + "[REDACTED]"


def redact(text: str) -> str:
    literal = _secret_settings_pattern()
    if literal is not None:
        text = literal.sub("[REDACTED]", text)
    text = _CONNECT_TOKEN.sub(r"cot_…\1", text)
    text = _OUR_SECRETS.sub(lambda m: m.group(1) + "_[REDACTED]", text)
    text = _AUTH_HEADER.sub(r"\1\2 [REDACTED]", text)
    text = _BEARER.sub(r"\1 [REDACTED]", text)
    return _KEY_VALUE.sub(_key_value, text)


def _redact_value(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    return value


_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: render it here so it is redacted too.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in {"msg", "args", "exc_info", "exc_text", "stack_info"}:
                if isinstance(value, str | dict | list | tuple):
                    setattr(record, key, _redact_value(value))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
