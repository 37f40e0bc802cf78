"""Prometheus metrics: what the provider's on-call needs to see, and tiny helpers to record it.

Call the helpers from services and views; they never raise (a metric must not break a request)
and they squash free-form label values to a small, safe vocabulary so a caller cannot create
unbounded time series or leak a token into a label.

Gunicorn runs several worker processes. When `PROMETHEUS_MULTIPROC_DIR` is set (deploy/
gunicorn.conf.py sets it up and removes dead workers' files) prometheus_client writes every
value to memory-mapped files there and `/metrics` aggregates all workers; otherwise the
process-local default registry is used (runserver, tests).
"""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

# Latencies we care about run from ~1 ms (a 304) to FlatPeak's 10 s read timeout.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TOKEN_EVENTS = frozenset({"issued", "refreshed", "reuse_detected", "revoked"})

FLOW_OUTCOMES = Counter(
    "fp_connect_flow_outcomes_total",
    "Connect flows that ended, by outcome (approved, declined, expired, failed, ...).",
    ["status"],
)
FLATPEAK_CALLS = Histogram(
    "fp_flatpeak_api_call_seconds",
    "Calls to FlatPeak's API: latency, by operation and result (ok, rejected, unavailable, ...).",
    ["operation", "result"],
    buckets=_LATENCY_BUCKETS,
)
TOKEN_EVENTS_TOTAL = Counter(
    "fp_oauth_token_events_total",
    "OAuth token events: issued, refreshed, reuse_detected, revoked.",
    ["event"],
)
TARIFF_REQUESTS = Histogram(
    "fp_tariff_api_request_seconds",
    "Tariff API requests: latency, by HTTP status.",
    ["status"],
    buckets=_LATENCY_BUCKETS,
)

_LABEL = re.compile(r"^[a-z0-9_]{1,40}$")


def _label(value: object) -> str:
    text = str(value).strip().lower()
    return text if _LABEL.match(text) else "other"


def flow_outcome_inc(*, status: str) -> None:
    """One connect flow finished with `status` (e.g. approved, declined, expired, failed)."""
    FLOW_OUTCOMES.labels(status=_label(status)).inc()


def flatpeak_call_observe(*, operation: str, result: str, seconds: float) -> None:
    """One call to FlatPeak (`operation` e.g. session_get / submit) took `seconds`."""
    FLATPEAK_CALLS.labels(operation=_label(operation), result=_label(result)).observe(
        max(seconds, 0.0)
    )


def token_event_inc(*, event: str) -> None:
    """`event` is one of TOKEN_EVENTS; anything else is counted as `other`."""
    TOKEN_EVENTS_TOTAL.labels(event=event if event in TOKEN_EVENTS else "other").inc()


def tariff_request_observe(*, status: int | str, seconds: float) -> None:
    """One tariff API request answered with HTTP `status` after `seconds`."""
    TARIFF_REQUESTS.labels(status=_label(status)).observe(max(seconds, 0.0))


def metrics_render() -> tuple[bytes, str]:
    """The exposition text for every worker (multiprocess) or this process, and its type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
