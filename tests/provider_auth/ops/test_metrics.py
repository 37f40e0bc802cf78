from __future__ import annotations

import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

from django.test import Client, override_settings
from prometheus_client import REGISTRY

from provider_auth.ops import metrics


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_helpers_count_flows_tokens_flatpeak_calls_and_tariff_requests() -> None:
    before = (
        _value("fp_connect_flow_outcomes_total", status="approved"),
        _value("fp_oauth_token_events_total", event="reuse_detected"),
        _value("fp_flatpeak_api_call_seconds_count", operation="submit", result="ok"),
        _value("fp_tariff_api_request_seconds_count", status="304"),
    )
    metrics.flow_outcome_inc(status="approved")
    metrics.token_event_inc(event="reuse_detected")
    metrics.flatpeak_call_observe(operation="submit", result="ok", seconds=0.2)
    metrics.tariff_request_observe(status=304, seconds=0.003)
    after = (
        _value("fp_connect_flow_outcomes_total", status="approved"),
        _value("fp_oauth_token_events_total", event="reuse_detected"),
        _value("fp_flatpeak_api_call_seconds_count", operation="submit", result="ok"),
        _value("fp_tariff_api_request_seconds_count", status="304"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]


def test_free_form_label_values_cannot_create_series_or_leak_tokens() -> None:
    before = _value("fp_connect_flow_outcomes_total", status="other")
    metrics.flow_outcome_inc(status="lat_secret token with spaces")
    metrics.token_event_inc(event="minted")
    assert _value("fp_connect_flow_outcomes_total", status="other") == before + 1
    assert _value("fp_oauth_token_events_total", event="other") >= 1
    body = metrics.metrics_render()[0].decode()
    assert "lat_secret" not in body


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["127.0.0.1"])
def test_metrics_are_served_to_an_allowed_address() -> None:
    metrics.flow_outcome_inc(status="declined")
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    assert b'fp_connect_flow_outcomes_total{status="declined"}' in response.content


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["10.1.0.0/16"])
def test_metrics_allowlist_accepts_networks_and_refuses_other_addresses() -> None:
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == HTTPStatus.OK
    assert Client(REMOTE_ADDR="10.2.0.1").get("/metrics").status_code == HTTPStatus.FORBIDDEN


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["127.0.0.1"])
def test_metrics_relayed_by_a_proxy_need_the_token_even_from_an_allowed_address() -> None:
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client.get("/metrics").status_code == HTTPStatus.FORBIDDEN


@override_settings(METRICS_TOKEN="m3tr1cs-t0ken-long-enough", METRICS_ALLOWED_IPS=[])
def test_metrics_need_the_bearer_token_when_no_address_is_allowed() -> None:
    client = Client(REMOTE_ADDR="198.51.100.4")
    refused = client.get("/metrics")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer m3tr1cs-t0ken-long-enougX")
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer m3tr1cs-t0ken-long-enough")
    assert right.status_code == HTTPStatus.OK


def test_metrics_in_multiprocess_mode_add_up_every_worker(tmp_path: Path) -> None:
    """Two processes write to PROMETHEUS_MULTIPROC_DIR; a third renders the sum (as gunicorn)."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    worker = (
        "from provider_auth.ops import metrics; "
        "metrics.token_event_inc(event='issued'); metrics.token_event_inc(event='issued')"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, cwd=Path.cwd())
    render = "from provider_auth.ops import metrics; print(metrics.metrics_render()[0].decode())"
    out = subprocess.run(
        [sys.executable, "-c", render],
        env=env,
        check=True,
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
    ).stdout
    assert 'fp_oauth_token_events_total{event="issued"} 4.0' in out
