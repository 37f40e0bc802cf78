"""Log pipeline: structlog JSON lines, the request id on each, secrets redacted on each.

Every line — Django's, gunicorn's, libraries' and ours from `structlog.get_logger()` — goes
through the one stdlib handler configured in settings.LOGGING, so the handler's filters apply
to all of them: `RequestIdFilter` stamps the current request id and
`provider_auth.security.redaction.RedactingFilter` masks secrets in the message and in every
extra field. structlog's own events are handed to stdlib as `msg` + `extra` (not as a
pre-rendered dict), precisely so that filter sees plain strings it can rewrite. The formatters
here are structlog `ProcessorFormatter`s that render the record (JSON in production, coloured
key=value on a developer's console) and redact the rendered exception text once more, because a
traceback is produced after the filters have run.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from provider_auth.security.redaction import redact

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Attributes a LogRecord owns; an `extra` key with one of these names makes stdlib raise.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
# Objects Django attaches to records that would print query strings or whole requests.
_DROPPED_EXTRAS = frozenset({"request", "server_time", "color_message"})


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _rename_reserved_keys(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """`log.info("x", name=...)` must not crash stdlib's makeRecord: prefix such keys."""
    for key in [k for k in event_dict if k in _RECORD_ATTRS and k != "exc_info"]:
        event_dict[f"{key}_"] = event_dict.pop(key)
    return event_dict


def _drop_unsafe_extras(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key in _DROPPED_EXTRAS:
        event_dict.pop(key, None)
    return event_dict


def _redact_rendered_text(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    # Tracebacks and stack text are built after the logging filters ran; mask them here too.
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact(event_dict[key])
    return event_dict


_configured = False


def structlog_configure() -> None:
    """Route structlog through stdlib logging (idempotent; called by the formatters below)."""
    global _configured
    if _configured:
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            _rename_reserved_keys,
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = True


_PRE_CHAIN: list[Any] = [
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    _drop_unsafe_extras,
]


def _processors(*, renderer: Any) -> list[Any]:
    """What every formatter runs last: exceptions formatted, then redacted, then rendered.

    One list for both formats, so redaction cannot be left out of one of them.
    """
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        _redact_rendered_text,
        renderer,
    ]


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """One JSON object per line: time, level, logger, event, request_id and any extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        structlog_configure()
        super().__init__(
            foreign_pre_chain=_PRE_CHAIN,
            processors=_processors(renderer=structlog.processors.JSONRenderer(default=str)),
        )


class ConsoleFormatter(structlog.stdlib.ProcessorFormatter):
    """Human-readable lines for a developer's terminal (LOG_FORMAT=console)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        structlog_configure()
        super().__init__(
            foreign_pre_chain=_PRE_CHAIN,
            processors=_processors(renderer=structlog.dev.ConsoleRenderer(colors=False)),
        )
