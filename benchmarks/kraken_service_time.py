"""In-process service time of the tariff API on the Kraken tariff source, warm cache, against
the one-query ceiling (a′) — the issue's targets: (b) ≥ 0.6 × (a′), its 304 (c) ≥ 0.8 × (a′).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_x REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python benchmarks/kraken_service_time.py [--calls 500] [--rounds 3]

Kraken is played by the tests' recorded answers (`tests/accounts/sources/fixtures/kraken/`,
replayed in-process with `responses`); the first request fills the shared cache, after which
no request reaches "Kraken" (the harness checks it), so what is timed is our side: the token
query, the premise's customer, the cache look-ups of the agreements and prices, and (200) the
document from the worker's memory. Same measurement as `tariff_service_time.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TARIFF_SOURCE", "accounts.sources.kraken.KrakenTariffSource")
os.environ.setdefault("KRAKEN_GRAPHQL_URL", "https://api.kraken.test/v1/graphql/")
os.environ.setdefault("KRAKEN_REST_URL", "https://api.kraken.test/v1")
os.environ.setdefault("KRAKEN_ORGANIZATION_SECRET_KEY", "sk_benchmark_organisation")
# A cache of its own per run: entries left by an earlier run would expire (and be fetched anew)
# in the middle of this one.
os.environ.setdefault("CACHE_KEY_PREFIX", f"kraken-bench-{os.getpid()}-{int(time.time())}")

# The in-process harness sets Django up (production settings plus the /bench/ ceilings).
harness = importlib.import_module("benchmarks.tariff_service_time")

import responses  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Premise, User  # noqa: E402
from provider_auth.oauth import services as oauth_services  # noqa: E402
from provider_auth.oauth import tokens  # noqa: E402
from provider_auth.oauth.models import OAuthClient  # noqa: E402
from tests.accounts.sources.kraken_replay import KrakenReplay  # noqa: E402

# Inside the recorded agreements, whenever the benchmark runs.
NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
EMAIL = "kraken-service-time@bench.example"


def seed() -> str:
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create(email=EMAIL, is_active=True, account_number="A-2222BBBB")
        Premise.objects.create(
            customer=user,
            reference="KRP-2000001",
            address_line1="1 Fixture Lane",
            city="Sampleford",
            post_code="ZZ9 9ZZ",
            country_code="GB",
        )
    client, _ = OAuthClient.objects.get_or_create(
        client_id="flatpeak-kraken-service-time",
        defaults={
            "client_secret_hash": tokens.secret_hash(tokens.secret_generate("lcs_")),
            "name": "FlatPeak",
            "redirect_uris": ["https://connect.flatpeak.example/oauth/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["tariff:read"],
        },
    )
    _, issued = oauth_services.grant_issue(
        customer=user,
        premise=Premise.objects.get(customer=user),
        client=client,
        directions=["IMPORT"],
    )
    return issued.access_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timezone.now = lambda: NOW  # type: ignore[assignment]
    call_command("migrate", verbosity=0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        replay = KrakenReplay(mock)
        token = seed()
        auth = {"Authorization": f"Bearer {token}"}
        first = Client().get(
            "/api/v1/tariff", secure=True, HTTP_AUTHORIZATION=auth["Authorization"]
        )
        assert first.status_code == 200, first.content
        warmed = len(mock.calls)
        targets = {
            "a'": ("/bench/single-row", auth, 200),
            "b": ("/api/v1/tariff", auth, 200),
            "c": ("/api/v1/tariff", {**auth, "If-None-Match": first["ETag"]}, 304),
        }
        results: dict[str, dict[str, float]] = {name: {} for name in targets}
        calls_by = {
            (name, how): (harness.via_client if how == "client" else harness.via_wsgi)(
                path, headers
            )
            for name, (path, headers, _expect) in targets.items()
            for how in ("client", "wsgi")
        }
        for _ in range(args.rounds):
            for (name, how), call in calls_by.items():
                got = harness.measure(call, expect=targets[name][2], calls=args.calls, rounds=1)
                results[name][how] = min(results[name].get(how, got), got)
        if len(mock.calls) != warmed:
            late = [c.request.url for c in mock.calls[warmed:]]
            raise SystemExit(f"the warm cache still called Kraken: {late}")
        del replay
    print("Tariff API on the Kraken source, warm cache")
    print(f"CPU ms per request, best of {args.rounds} interleaved rounds × {args.calls} calls")
    print(f"{'target':<6} {'test client':>12} {'wsgi handler':>13}")
    for name, row in results.items():
        print(f"{name:<6} {row['client']:>12.3f} {row['wsgi']:>13.3f}")
    for name, target in (("b", 0.6), ("c", 0.8)):
        for how in ("client", "wsgi"):
            ratio = results["a'"][how] / results[name][how]
            verdict = "met" if ratio >= target else "MISSED"
            print(f"  {name} / a′ ({how}): {ratio:.2f}×  (target {target}×: {verdict})")


if __name__ == "__main__":
    main()
