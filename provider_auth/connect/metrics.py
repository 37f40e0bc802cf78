"""Counting how connect flows end (the `fp_connect_flow_outcomes_total` metric)."""

from __future__ import annotations


def flow_outcome_count(status: str) -> None:
    try:
        from provider_auth.ops.metrics import flow_outcome_inc
    except ImportError:
        return
    flow_outcome_inc(status=status)
