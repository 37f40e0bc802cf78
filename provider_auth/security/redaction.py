"""Keep secrets out of logs.

Threat: logs are shipped to many systems and read by many people; a token or password in a log
line is a credential leak. This filter rewrites every record (message, args and extra fields)
so that bearer tokens, our token prefixes, passwords, Authorization headers and client secrets
are masked, and connect tokens are shortened to `cot_…a97`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CONNECT_TOKEN = re.compile(r"\bcot_[0-9a-f]{21}([0-9a-f]{3})\b")
_OUR_SECRETS = re.compile(r"\b(lat|lrt|lac|lcs)_[A-Za-z0-9_-]{20,}")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*)(bearer|basic)\s+[^\s,'\"}]+")
_KEY_VALUE = re.compile(
    r"(?i)([\"']?(?:password|passwd|client_secret|access_token|refresh_token|code_verifier|"
    r"api_key|secret|code)[\"']?\s*[:=]\s*[\"']?)([^\s&,'\"}]+)"
)


def redact(text: str) -> str:
    text = _CONNECT_TOKEN.sub(r"cot_…\1", text)
    text = _OUR_SECRETS.sub(lambda m: m.group(1) + "_[REDACTED]", text)
    text = _AUTH_HEADER.sub(r"\1\2 [REDACTED]", text)
    return _KEY_VALUE.sub(r"\1[REDACTED]", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in {"msg", "args", "exc_info", "exc_text", "stack_info"}:
                if isinstance(value, str | dict | list | tuple):
                    setattr(record, key, _redact_value(value))
        return True
