"""In-process service time of the tariff API against the ceilings (no wrk, no sockets).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_x REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python benchmarks/tariff_service_time.py [--calls 500] [--rounds 3] [--profile c]

The step-by-step harness for the tariff API's targets (b) and (c) of `docs/performance.md`
(`benchmarks/service_time.py` is the one `run.sh` calls for every target). Migrates the
database, seeds one customer with the benchmark's time-of-use tariff and a live FlatPeak grant
(once), then times each target with `time.process_time` (CPU of this process: Django, the ORM,
the database driver and the Redis client — not PostgreSQL's or Redis's own CPU) over `--calls`
requests after a warm-up, through the full middleware stack:

  (a)  /bench/constant           constant JSON view
  (a′) /bench/single-row         one indexed single-row query (the ceiling for a token check)
  (b)  /api/v1/tariff            valid token → 200
  (c)  /api/v1/tariff            same with If-None-Match → 304
  (g)  /api/v1/tariff/rates      24 hours of half-hourly published prices → 200
  (h)  /api/v1/tariff/rates      7 days of 15-minute market-indexed prices (672) → 200
  (i)  /api/v1/tariff            a published-prices tariff with If-None-Match → 304

Each target is measured two ways: through Django's test `Client` (what docs/performance.md
quotes) and by calling the WSGI handler with a prepared environ (closer to gunicorn: no test
client bookkeeping). The best of `--rounds` interleaved rounds is kept, to shed noise from
the shared machine. `--profile TARGET` prints a cProfile (CPU time) of one target instead.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Production settings plus the /bench/ ceilings (benchmarks.urls).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("DEBUG", "false")  # DEBUG records every query: not what production runs
os.environ.setdefault("SECRET_KEY", "service-time-" + "k" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
# The limits stay on (their Redis round trips are part of the cost) but never trip.
os.environ.setdefault("TARIFF_POLL_LIMIT_PER_HOUR", "1000000000")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Contract, Direction, Premise, Tariff, User  # noqa: E402
from benchmarks.seed import bench_priced_create, bench_tariff_create  # noqa: E402
from provider_auth.oauth import services as oauth_services  # noqa: E402
from provider_auth.oauth import tokens  # noqa: E402
from provider_auth.oauth.models import AccessToken, OAuthClient  # noqa: E402

EMAIL = "service-time@bench.example"


def seed_priced() -> dict[str, str]:
    """The priced customers, made afresh (their prices sit around today)."""
    User.objects.filter(
        email__in=["bench-published@bench.example", "bench-market@bench.example"]
    ).delete()
    Tariff.objects.filter(name__in=["Bench Agile", "Bench Dynamisch"]).delete()
    return bench_priced_create(OAuthClient.objects.get(client_id="flatpeak-service-time"))


def seed() -> str:
    """A customer with the benchmark tariff and a fresh access token (re-uses data if present)."""
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        client = OAuthClient.objects.create(
            client_id="flatpeak-service-time",
            client_secret_hash=tokens.secret_hash(tokens.secret_generate("lcs_")),
            name="FlatPeak",
            redirect_uris=["https://connect.flatpeak.example/oauth/callback"],
            grant_types=["authorization_code", "refresh_token"],
            scopes=["tariff:read"],
        )
        tariff = bench_tariff_create()
        user = User.objects.create(email=EMAIL, is_active=True)
        premise = Premise.objects.create(
            customer=user,
            reference="PRM-900001",
            address_line1="1 Bench Street",
            city="London",
            post_code="WC2N 5EH",
            country_code="GB",
        )
        now = timezone.now()
        Contract.objects.create(
            premise=premise,
            tariff=tariff,
            direction=Direction.IMPORT,
            start_at=now - dt.timedelta(days=180),
            end_at=now + dt.timedelta(days=180),
        )
    premise = Premise.objects.get(customer=user)
    client = OAuthClient.objects.get(client_id="flatpeak-service-time")
    AccessToken.objects.filter(grant__customer=user).delete()
    _, issued = oauth_services.grant_issue(
        customer=user, premise=premise, client=client, directions=["IMPORT"]
    )
    return issued.access_token


Call = Callable[[], int]


def via_client(path: str, headers: dict[str, str]) -> Call:
    client = Client()
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}

    def call() -> int:
        return client.get(path, secure=True, **meta).status_code

    return call


def via_wsgi(path: str, headers: dict[str, str]) -> Call:
    handler = WSGIHandler()
    path, _, query = path.partition("?")
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    status: list[str] = []

    def start_response(s: str, h: object, exc_info: object = None) -> None:
        status.append(s)

    def call() -> int:
        status.clear()
        body = handler(dict(base, **{"wsgi.input": io.BytesIO(b"")}), start_response)
        for _chunk in body:
            pass
        body.close()  # type: ignore[attr-defined]  # fires request_finished, as gunicorn does
        return int(status[0][:3])

    return call


def measure(call: Call, *, expect: int, calls: int, rounds: int) -> float:
    """Best per-call CPU milliseconds over `rounds` rounds of `calls` calls."""
    for _ in range(max(50, calls // 5)):
        got = call()
        if got != expect:
            raise SystemExit(f"expected {expect}, got {got}")
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - started) * 1000 / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--profile", choices=["a", "a'", "b", "c", "g", "h", "i"], help="cProfile one target"
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    token = seed()
    auth = {"Authorization": f"Bearer {token}"}
    first = Client().get("/api/v1/tariff", secure=True, HTTP_AUTHORIZATION=auth["Authorization"])
    assert first.status_code == 200, first.content
    priced = seed_priced()
    published = {"Authorization": f"Bearer {priced['published_access_token']}"}
    market = {"Authorization": f"Bearer {priced['market_access_token']}"}
    published_first = Client().get(
        "/api/v1/tariff", secure=True, HTTP_AUTHORIZATION=published["Authorization"]
    )
    assert published_first.status_code == 200, published_first.content
    targets = {
        "a": ("/bench/constant", {}, 200),
        "a'": ("/bench/single-row", auth, 200),
        "b": ("/api/v1/tariff", auth, 200),
        "c": ("/api/v1/tariff", {**auth, "If-None-Match": first["ETag"]}, 304),
        "g": (priced["published_rates_path"], published, 200),
        "h": (priced["market_rates_path"], market, 200),
        "i": ("/api/v1/tariff", {**published, "If-None-Match": published_first["ETag"]}, 304),
    }

    if args.profile:
        path, headers, expect = targets[args.profile]
        call = via_wsgi(path, headers)
        measure(call, expect=expect, calls=50, rounds=1)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.calls):
            call()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        )
        stats.print_stats(45)
        if os.environ.get("PROFILE_CALLEES"):
            stats.print_callees(os.environ["PROFILE_CALLEES"])
        print(out.getvalue())
        return

    # Rounds interleave the targets, so a burst of load from elsewhere on the machine hits them
    # alike; the minimum over rounds is the least disturbed measurement of each.
    calls_by = {
        (name, how): (via_client if how == "client" else via_wsgi)(path, headers)
        for name, (path, headers, _expect) in targets.items()
        for how in ("client", "wsgi")
    }
    results: dict[str, dict[str, float]] = {name: {} for name in targets}
    for _ in range(args.rounds):
        for (name, how), call in calls_by.items():
            got = measure(call, expect=targets[name][2], calls=args.calls, rounds=1)
            results[name][how] = min(results[name].get(how, got), got)
    print(f"CPU ms per request, best of {args.rounds} interleaved rounds × {args.calls} calls")
    print(f"{'target':<6} {'test client':>12} {'wsgi handler':>13}")
    for name, row in results.items():
        print(f"{name:<6} {row['client']:>12.3f} {row['wsgi']:>13.3f}")
    print(
        "ratios (throughput = 1 / service time), targets: b ≥ 0.6 × a′, c ≥ 0.8 × a′, "
        "g ≥ 0.4 × a′, h ≥ 0.1 × a′, i ≥ 0.8 × a′"
    )
    for name, target in (("b", 0.6), ("c", 0.8), ("g", 0.4), ("h", 0.1), ("i", 0.8)):
        for how in ("client", "wsgi"):
            ratio = results["a'"][how] / results[name][how]
            verdict = "met" if ratio >= target else "MISSED"
            print(f"  {name} / a′ ({how}): {ratio:.2f}×  (target {target}×: {verdict})")


if __name__ == "__main__":
    main()
