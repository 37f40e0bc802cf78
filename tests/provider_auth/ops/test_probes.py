from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connections
from django.test import Client, override_settings

from provider_auth.ops import views

FLATPEAK = {
    "FLATPEAK_API_URL": "https://api.flatpeak.example",
    "FLATPEAK_ACCOUNT_ID": "acc_1",
    "FLATPEAK_API_KEY": "sk_test",
}


@pytest.fixture(autouse=True)
def _forget_cached_migration_state() -> None:
    views._migrations_ok_until = 0.0


def test_healthz_answers_ok_without_touching_the_database(
    client: Client, db: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@override_settings(ALLOWED_HOSTS=["auth.provider.example"], SECURE_SSL_REDIRECT=True)
def test_probes_answer_a_load_balancer_calling_by_ip_over_plain_http(db: Any) -> None:
    client = Client(HTTP_HOST="10.0.3.7")
    with override_settings(**FLATPEAK):
        assert client.get("/healthz").status_code == HTTPStatus.OK
        assert client.get("/readyz").status_code == HTTPStatus.OK
    # Anything else still gets the normal host validation.
    assert client.get("/account/login/").status_code == HTTPStatus.BAD_REQUEST


@override_settings(**FLATPEAK)
def test_readyz_reports_every_check_ok_when_ready(client: Client, db: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "cache": "ok",
            "flatpeak_settings": "ok",
        },
    }
    assert "no-cache" in response["Cache-Control"]


@override_settings(FLATPEAK_API_KEY="", FLATPEAK_ACCOUNT_ID="")
def test_readyz_is_503_and_names_missing_flatpeak_settings(client: Client, db: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["flatpeak_settings"] == "missing: FLATPEAK_ACCOUNT_ID, FLATPEAK_API_KEY"


@override_settings(**FLATPEAK)
def test_readyz_is_503_when_the_database_is_unreachable(
    client: Client, db: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_cursor(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("db.internal:5432 refused")

    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING):
        patch.setattr(connections["default"], "cursor", broken_cursor)
        response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    checks = response.json()["checks"]
    assert checks["database"] == "failing"
    # The exception and host name stay in our logs, not in the public probe's answer.
    assert b"db.internal" not in response.content
    assert b"ConnectionRefused" not in response.content and b"Error" not in response.content
    logged = [r for r in caplog.records if r.getMessage() == "readiness check failed"]
    assert "ConnectionRefusedError" in logged[0].error  # type: ignore[attr-defined]


@override_settings(
    FLATPEAK_API_URL="https://api.flatpeak.example",
    FLATPEAK_ACCOUNT_ID="acc_1",
    FLATPEAK_API_KEY="sk_test",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
)
def test_readyz_is_503_when_the_cache_loses_what_it_was_given(client: Client, db: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["cache"].startswith("failing")


@override_settings(**FLATPEAK)
def test_readyz_is_503_while_migrations_are_pending(
    client: Client, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["migrations"] == "pending: 1 migration(s)"


def test_probe_views_are_marked_exempt_from_rate_limits() -> None:
    for view in (views.healthz, views.readyz, views.metrics):
        assert view.rate_limit_exempt is True
        assert view.ops_probe is True


def test_probes_refuse_post(client: Client) -> None:
    assert client.post("/healthz").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_benchmark_views_do_not_exist_unless_switched_on(client: Client, db: Any) -> None:
    assert client.get("/bench/constant", secure=True).status_code == HTTPStatus.NOT_FOUND
    assert client.get("/bench/single-row", secure=True).status_code == HTTPStatus.NOT_FOUND


@override_settings(ROOT_URLCONF="benchmarks.urls")
def test_benchmark_single_row_view_looks_the_bearer_token_up(
    client: Client, db: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response = client.get("/bench/single-row", secure=True, HTTP_AUTHORIZATION="Bearer x")
    assert response.json() == {"object": "single_row", "found": False}
    assert client.get("/bench/constant", secure=True).json()["ok"] is True
