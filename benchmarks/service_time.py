"""CPU time per request, in-process (Django test client through the full middleware stack, on
the benchmark database): a measure of our own cost that other load on a shared machine barely
moves. Run by benchmarks/run.py with the benchmark's env; prints one JSON object.

    python benchmarks/service_time.py SEED.json TOKENS.txt
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

HOST = "auth.bench.test"


def cpu_ms(call: Callable[[], object], *, calls: int = 100, repeats: int = 3) -> float:
    """Median over `repeats` of the mean CPU milliseconds per call."""
    return cpu_ms_interleaved({"call": (call, None)}, calls=calls, rounds=repeats)["call"]


def cpu_ms_interleaved(
    targets: dict[str, tuple[Callable[[], object], Any]], *, calls: int = 100, rounds: int = 5
) -> dict[str, float]:
    """Median over `rounds` of each target's mean CPU milliseconds per call, the targets taken
    in turn within every round: a burst of other load on the machine then lands on all of them
    alike instead of on whichever one happened to be running. A target is (call, settings): a
    `django.test.override_settings` to enable while it runs (warmed again after enabling), or
    None."""

    def sample(call: Callable[[], object], scope: Any) -> float:
        if scope is not None:
            scope.enable()
        try:
            call()  # warm: imports, connections, caches (again after a settings change)
            started = time.process_time()
            for _ in range(calls):
                call()
            return (time.process_time() - started) * 1000 / calls
        finally:
            if scope is not None:
                scope.disable()

    samples: dict[str, list[float]] = {key: [] for key in targets}
    for _ in range(rounds):
        for key, (call, scope) in targets.items():
            samples[key].append(sample(call, scope))
    return {key: round(statistics.median(values), 3) for key, values in samples.items()}


def main() -> None:
    seed = json.loads(Path(sys.argv[1]).read_text())
    refresh_tokens = iter(Path(sys.argv[2]).read_text().split())
    import base64

    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {seed['access_token']}"}
    etag = client.get("/api/v1/tariff", **bearer)["ETag"]
    published = {"HTTP_AUTHORIZATION": f"Bearer {seed['published_access_token']}"}
    market = {"HTTP_AUTHORIZATION": f"Bearer {seed['market_access_token']}"}
    published_etag = client.get("/api/v1/tariff", **published)["ETag"]
    basic = (
        "Basic "
        + base64.b64encode(f"{seed['client_id']}:{seed['client_secret']}".encode()).decode()
    )

    def checked(status: int, call: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            response = call()
            assert response.status_code == status, (status, response.status_code)  # type: ignore[attr-defined]
            return response

        return run

    targets = {
        "a_constant_json": checked(200, lambda: client.get("/bench/constant")),
        "a1_single_row": checked(200, lambda: client.get("/bench/single-row", **bearer)),
        "b_tariff_200": checked(200, lambda: client.get("/api/v1/tariff", **bearer)),
        "c_tariff_304": checked(
            304, lambda: client.get("/api/v1/tariff", HTTP_IF_NONE_MATCH=etag, **bearer)
        ),
        "d_refresh_grant": checked(
            200,
            lambda: client.post(
                "/oauth/token",
                urlencode({"grant_type": "refresh_token", "refresh_token": next(refresh_tokens)}),
                content_type="application/x-www-form-urlencoded",  # the only body it accepts
                HTTP_AUTHORIZATION=basic,
            ),
        ),
        "e_metadata": checked(200, lambda: client.get("/.well-known/oauth-authorization-server")),
        "g_rates_published_24h": checked(
            200, lambda: client.get(seed["published_rates_path"], **published)
        ),
        "h_rates_market_7d": checked(200, lambda: client.get(seed["market_rates_path"], **market)),
        "i_published_304": checked(
            304,
            lambda: client.get("/api/v1/tariff", HTTP_IF_NONE_MATCH=published_etag, **published),
        ),
        "j_published_200": checked(200, lambda: client.get("/api/v1/tariff", **published)),
    }
    plan: dict[str, tuple[Callable[[], object], Any]] = {
        key: (call, None) for key, call in targets.items()
    }
    kraken_url = os.environ.get("BENCH_KRAKEN_URL")
    if kraken_url:
        plan.update(kraken_targets(client, seed, kraken_url, checked))
    print(json.dumps(cpu_ms_interleaved(plan)))


def kraken_targets(
    client: Client, seed: dict[str, Any], fake_url: str, checked: Callable[..., Any]
) -> dict[str, tuple[Callable[[], object], Any]]:
    """The tariff API on the Kraken source (the served fake at `fake_url`), warm cache: the same
    requests the Kraken server answers under wrk, each with the settings that select it."""
    from django.test import override_settings

    from benchmarks.kraken_bench import kraken_settings

    configured: dict[str, Any] = dict(kraken_settings(fake_url))
    configured["KRAKEN_AGREEMENTS_TTL"] = int(configured["KRAKEN_AGREEMENTS_TTL"])
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {seed['kraken_access_token']}"}
    scope = override_settings(**configured)
    with scope:
        first = client.get("/api/v1/tariff", **bearer)  # fills the cache from the fake
        assert first.status_code == 200, first.content  # noqa: S101
        etag = first["ETag"]
    return {
        "k_kraken_200": (checked(200, lambda: client.get("/api/v1/tariff", **bearer)), scope),
        "k_kraken_304": (
            checked(304, lambda: client.get("/api/v1/tariff", HTTP_IF_NONE_MATCH=etag, **bearer)),
            scope,
        ),
    }


if __name__ == "__main__":
    main()
