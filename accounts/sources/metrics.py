"""Metrics of tariff sources: platform calls, cache use and stale answers.

Defined here with prometheus_client directly (not through the FlatPeak side's metrics module,
which this app must not import); they land in the same default registry, or the same
multiprocess files under gunicorn, so `/metrics` exposes them beside the others. Cache hit
ratio: `sum(rate(fp_tariff_source_cache_total{result="hit"}[5m])) /
sum(rate(fp_tariff_source_cache_total[5m]))`.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

SOURCE_CALLS = Histogram(
    "fp_tariff_source_call_seconds",
    "Calls to the billing platform behind the tariff source: latency, by operation and result "
    "(ok, unavailable, malformed, misconfigured, not_found).",
    ["source", "operation", "result"],
    buckets=_LATENCY_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "fp_tariff_source_cache_total",
    "Tariff source cache look-ups by kind of data and result (hit, miss).",
    ["source", "kind", "result"],
)
STALE_ANSWERS = Counter(
    "fp_tariff_source_stale_answers_total",
    "Answers served from remembered data because the billing platform was unavailable.",
    ["source", "kind"],
)

_LABEL = re.compile(r"^[a-z0-9_]{1,40}$")


def _label(value: object) -> str:
    text = str(value).strip().lower()
    return text if _LABEL.match(text) else "other"


def source_call_observe(*, source: str, operation: str, result: str, seconds: float) -> None:
    SOURCE_CALLS.labels(
        source=_label(source), operation=_label(operation), result=_label(result)
    ).observe(max(seconds, 0.0))


# (source, kind, hit) -> the labelled counter: a cache hit is counted on every poll, and
# resolving the labels each time cost more than the look-up it counts.
_CACHE_COUNTERS: dict[tuple[str, str, bool], Any] = {}


def source_cache_inc(*, source: str, kind: str, hit: bool) -> None:
    counter = _CACHE_COUNTERS.get((source, kind, hit))
    if counter is None:
        counter = CACHE_LOOKUPS.labels(
            source=_label(source), kind=_label(kind), result="hit" if hit else "miss"
        )
        _CACHE_COUNTERS[(source, kind, hit)] = counter
    counter.inc()


def source_stale_inc(*, source: str, kind: str) -> None:
    STALE_ANSWERS.labels(source=_label(source), kind=_label(kind)).inc()
