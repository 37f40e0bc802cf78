"""In-process service time of the refresh grant against the single-row ceiling and the peer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_x REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python benchmarks/refresh_service_time.py [--calls 200] [--rounds 5] \
        [--peer-db fp_x_peer | --no-peer] [--profile d]

The harness for the refresh grant's target (d) of `docs/performance.md`
(`benchmarks/tariff_service_time.py` is its sibling for (b)/(c); `benchmarks/service_time.py` is
the one `run.sh` calls). Migrates the database, seeds a FlatPeak client (secret stored as its
SHA-256 digest, as always) and one customer (once), then times with `time.process_time` (CPU of
this process: Django, Authlib, the ORM, the database driver and the Redis client — not
PostgreSQL's or Redis's own CPU), through the full middleware stack:

  (a′) GET  /bench/single-row   one indexed single-row query (the ceiling for a token check)
  (d)  POST /oauth/token        grant_type=refresh_token, HTTP Basic client authentication,
                                a fresh refresh token per call (minted before each round,
                                one active grant each, outside the timed loop)

Each is measured through Django's test `Client` (what docs/performance.md quotes) and by
calling the WSGI handler with a prepared environ (closer to gunicorn). Rounds interleave the
targets; the best round of each is kept, to shed noise from the shared machine.

The peer (django-oauth-toolkit, `benchmarks/peer/`, its own venv and database) is measured by
its own `service_time.py` once per round, interleaved with ours, on a database this script
recreates (`--peer-db`); its figure is the test-client one (median of 3 × 100 calls per round,
best round kept). `--profile d` prints a cProfile (CPU time) of our refresh grant instead.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "benchmarks" / "peer"
PEER_PY = PEER / ".venv" / "bin" / "python"
sys.path.insert(0, str(ROOT))
# Production settings plus the /bench/ ceilings (benchmarks.urls).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("DEBUG", "false")  # DEBUG records every query: not what production runs
os.environ.setdefault("SECRET_KEY", "service-time-" + "k" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
# The limits stay on (their Redis round trips are part of the cost) but never trip.
os.environ.setdefault("RATE_LIMIT_TOKEN_PER_MINUTE", "1000000000")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Premise, User  # noqa: E402
from provider_auth.oauth import tokens  # noqa: E402
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient, RefreshToken  # noqa: E402

EMAIL = "refresh-service-time@bench.example"
CLIENT_ID = "flatpeak-refresh-service-time"
SECRET_FILE = Path(tempfile.gettempdir()) / "refresh-service-time-secret"


def seed() -> tuple[OAuthClient, str, str]:
    """The client (with a new secret each run: only its digest is stored) and an access token
    value for the ceiling's lookup."""
    secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
    client, _ = OAuthClient.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "client_secret_hash": tokens.secret_hash(secret),
            "name": "FlatPeak",
            "redirect_uris": ["https://connect.flatpeak.example/oauth/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["tariff:read"],
        },
    )
    user, _ = User.objects.get_or_create(email=EMAIL, defaults={"is_active": True})
    Premise.objects.get_or_create(
        customer=user,
        defaults={
            "reference": "PRM-900002",
            "address_line1": "2 Bench Street",
            "city": "London",
            "post_code": "WC2N 5EH",
            "country_code": "GB",
        },
    )
    return client, secret, tokens.secret_generate(tokens.ACCESS_TOKEN_PREFIX)


def mint(client: OAuthClient, count: int) -> list[str]:
    """Fresh refresh tokens, one active grant each (what a first rotation would have made)."""
    user = User.objects.get(email=EMAIL)
    premise = Premise.objects.get(customer=user)
    now = timezone.now()
    grants = Grant.objects.bulk_create(
        [
            Grant(
                customer=user,
                premise=premise,
                client=client,
                scope="tariff:read",
                directions=["IMPORT"],
                status=GrantStatus.ACTIVE,
                created_at=now,
                activated_at=now,
                absolute_expires_at=now + dt.timedelta(days=400),
                display_name="FlatPeak",
            )
            for _ in range(count)
        ]
    )
    values = [tokens.secret_generate(tokens.REFRESH_TOKEN_PREFIX) for _ in grants]
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(
                grant=grant,
                token_hash=tokens.secret_hash(value),
                scope="tariff:read",
                created_at=now,
                expires_at=now + dt.timedelta(days=90),
            )
            for grant, value in zip(grants, values, strict=True)
        ]
    )
    return values


Call = Callable[[], int]


def via_client(method: str, path: str, headers: dict[str, str], body: Callable[[], str]) -> Call:
    client = Client()
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}

    def call() -> int:
        if method == "GET":
            return client.get(path, secure=True, **meta).status_code
        return client.post(
            path,
            body(),
            content_type="application/x-www-form-urlencoded",
            secure=True,
            **meta,
        ).status_code

    return call


def via_wsgi(method: str, path: str, headers: dict[str, str], body: Callable[[], str]) -> Call:
    handler = WSGIHandler()
    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
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
        data = body().encode()
        environ = dict(base, **{"wsgi.input": io.BytesIO(data)})
        if method == "POST":
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(data))
        response = handler(environ, start_response)
        for _chunk in response:
            pass
        response.close()  # type: ignore[attr-defined]  # fires request_finished, as gunicorn does
        return int(status[0][:3])

    return call


def timed(call: Call, *, expect: int, calls: int) -> float:
    """CPU milliseconds per call over `calls` calls (every answer checked)."""
    started = time.process_time()
    for _ in range(calls):
        got = call()
        if got != expect:
            raise SystemExit(f"expected {expect}, got {got}")
    return (time.process_time() - started) * 1000 / calls


def peer_prepare(db: str) -> tuple[dict[str, str], Path]:
    """Recreate the peer's database, migrate and seed it; its env and seed file."""
    for sql in (f'DROP DATABASE IF EXISTS "{db}"', f'CREATE DATABASE "{db}"'):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
            check=True,
            capture_output=True,
        )
    env = {
        "PATH": f"{PEER_PY.parent}:/usr/bin:/bin",
        "HOME": tempfile.gettempdir(),
        "PEER_DB_NAME": db,
        "DJANGO_SETTINGS_MODULE": "peer_project.settings",
    }
    work = Path(tempfile.mkdtemp(prefix="refresh-peer-"))
    subprocess.run(
        [str(PEER_PY), "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=PEER, check=True
    )
    subprocess.run(
        [str(PEER_PY), "seed.py", str(work / "peer.json"), "1", "1"], env=env, cwd=PEER, check=True
    )
    return env, work / "peer.json"


def peer_measure(env: dict[str, str], seed_file: Path) -> dict[str, float]:
    out = subprocess.run(
        [str(PEER_PY), "service_time.py", str(seed_file)],
        env=env,
        cwd=PEER,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peer-db", default="", help="database for the peer (recreated)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--profile", choices=["d"], help="cProfile our refresh grant")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    client, secret, access_value = seed()
    import base64

    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    fresh: Iterator[str] = iter(())

    def refresh_body() -> str:
        return urlencode({"grant_type": "refresh_token", "refresh_token": next(fresh)})

    targets: dict[str, tuple[str, str, dict[str, str], Callable[[], str], int]] = {
        "a'": (
            "GET",
            "/bench/single-row",
            {"Authorization": f"Bearer {access_value}"},
            lambda: "",
            200,
        ),
        "d": ("POST", "/oauth/token", {"Authorization": basic}, refresh_body, 200),
    }
    warm = max(50, args.calls // 4)

    if args.profile:
        method, path, headers, body, expect = targets["d"]
        call = via_wsgi(method, path, headers, body)
        fresh = iter(mint(client, warm + args.calls))
        timed(call, expect=expect, calls=warm)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.calls):
            call()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())
        return

    # How many statements one refresh costs (outside the timing).
    from django.test.utils import CaptureQueriesContext

    fresh = iter(mint(client, 1))
    with CaptureQueriesContext(connection) as queries:
        first = via_client(*targets["d"][:4])()
    assert first == 200, first
    statements = len(queries.captured_queries)

    peer = None
    if not args.no_peer and PEER_PY.exists():
        peer = peer_prepare(args.peer_db or f"{connection.settings_dict['NAME']}_peer")
    calls_by = {
        (name, how): (via_client if how == "client" else via_wsgi)(*spec[:4])
        for name, spec in targets.items()
        for how in ("client", "wsgi")
    }
    results: dict[str, dict[str, float]] = {name: {} for name in targets}
    peer_best: dict[str, float] = {}
    for _ in range(args.rounds):
        for (name, how), call in calls_by.items():
            if name == "d":
                fresh = iter(mint(client, warm + args.calls))
            timed(call, expect=targets[name][4], calls=warm)
            got = timed(call, expect=targets[name][4], calls=args.calls)
            results[name][how] = min(results[name].get(how, got), got)
        if peer is not None:
            for key, value in peer_measure(*peer).items():
                peer_best[key] = min(peer_best.get(key, value), value)

    print(f"CPU ms per request, best of {args.rounds} interleaved rounds × {args.calls} calls")
    print(f"SQL statements per refresh (BEGIN and COMMIT included): {statements}")
    print(f"{'target':<6} {'test client':>12} {'wsgi handler':>13}")
    for name, row in results.items():
        print(f"{name:<6} {row['client']:>12.3f} {row['wsgi']:>13.3f}")
    for how in ("client", "wsgi"):
        print(
            f"  d / a′ throughput ({how}): {results['a' + chr(39)][how] / results['d'][how]:.2f}×"
        )
    if peer_best:
        print("peer (django-oauth-toolkit, test client, median of 3 × 100 per round, best round):")
        for key, value in peer_best.items():
            print(f"  {key:<38} {value:>8.3f}")
        plain = peer_best["peer_refresh_secret_hash_off"]
        ratio = plain / results["d"]["client"]
        verdict = "met" if ratio >= 2 else "MISSED"
        print(
            f"  d vs peer refresh, secret hashing off (test client): {ratio:.2f}×"
            f"  (target 2×: {verdict})"
        )


if __name__ == "__main__":
    main()
