"""The `/bench/` ceilings live with the benchmarks: routed only by the benchmark settings, and
through the same middleware stack as the tariff API they are compared with."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.test import Client, override_settings

from benchmarks.stack import benchmark_middleware


def test_production_does_not_route_the_ceilings(client: Client, db: Any) -> None:
    assert client.get("/bench/constant", secure=True).status_code == HTTPStatus.NOT_FOUND


def test_the_ceilings_take_the_api_middleware_stack(db: Any) -> None:
    with override_settings(
        ROOT_URLCONF="benchmarks.urls", MIDDLEWARE=benchmark_middleware(settings.MIDDLEWARE)
    ):
        client = Client()
        bench = client.get("/bench/constant", secure=True)
        page = client.get("/account/login/", secure=True)
    assert bench.json() == {"object": "constant", "ok": True}
    # Sessions, locale negotiation and the user stood aside: nothing varies on a cookie or a
    # language, as on /api/ — while browser pages still get all of it.
    assert "Cookie" not in bench.get("Vary", "")
    assert "Accept-Language" not in bench.get("Vary", "")
    assert "Accept-Language" in page.get("Vary", "")


def test_the_benchmark_settings_swap_only_the_browser_only_middleware() -> None:
    swapped = benchmark_middleware(settings.MIDDLEWARE)
    assert len(swapped) == len(settings.MIDDLEWARE)
    changed = [(a, b) for a, b in zip(settings.MIDDLEWARE, swapped, strict=True) if a != b]
    assert len(changed) == 5
    assert all(b.startswith("benchmarks.middleware.") for _, b in changed)


def test_every_swapped_class_exists_and_extends_the_production_one() -> None:
    from benchmarks import middleware as bench
    from benchmarks.stack import BROWSER_ONLY
    from provider_auth.tariff_api import middleware as production

    for name in BROWSER_ONLY:
        assert issubclass(getattr(bench, name), getattr(production, name))
