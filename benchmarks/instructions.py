"""Instructions per request of a tariff API target, counted by valgrind (callgrind).

On a shared machine CPU time moves by up to 2× between identical runs (other test suites,
other virtual machines on the host); instruction counts do not: the same code, data and
environment give the same count whatever else runs. They are not time (a cache miss costs more
than an add), but a ratio of counts between two targets, or between two versions of the code,
is repeatable to well under 1 %. This runs N requests of one target in-process through the
WSGI handler (the Django process only: PostgreSQL's and Redis's own work is not counted):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python benchmarks/tariff_service_time.py --calls 10 --rounds 1   # seeds <db>
    for n in 0 200; do
      DATABASE_URL=… REDIS_URL=… valgrind --tool=callgrind --callgrind-out-file=cg.$n \\
        .venv/bin/python benchmarks/instructions.py g $n
    done
    # instructions per request = (summary of cg.200 − summary of cg.0) / 200

Targets: a1 (the one-query ceiling, a′), b (tariff 200), c (its 304), g (24 h of published
rates), h (7 days of market-indexed rates), i (a published-prices tariff's 304). Each run issues a fresh token for the seeded
customer and makes 20 warming requests before the N counted ones, so the two runs differ by the
N requests alone.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.chdir(Path(__file__).resolve().parents[1])

# isort: off
from benchmarks.tariff_service_time import EMAIL, via_wsgi  # noqa: E402  (sets Django up first)
# isort: on

from accounts.models import Premise, User  # noqa: E402
from accounts.prices import local_day_bounds  # noqa: E402
from provider_auth.oauth.models import OAuthClient  # noqa: E402
from provider_auth.oauth.services import grant_issue  # noqa: E402

TARGETS = ("a1", "b", "c", "g", "h", "i")


def main() -> None:
    target, count = sys.argv[1], int(sys.argv[2])
    if target not in TARGETS:
        raise SystemExit(f"target must be one of {', '.join(TARGETS)}")
    email = {
        "g": "bench-published@bench.example",
        "i": "bench-published@bench.example",
        "h": "bench-market@bench.example",
    }.get(target, EMAIL)
    user = User.objects.get(email=email)
    client = OAuthClient.objects.get(client_id="flatpeak-service-time")
    _, issued = grant_issue(
        customer=user,
        premise=Premise.objects.get(customer=user),
        client=client,
        directions=["IMPORT"],
    )
    headers = {"Authorization": f"Bearer {issued.access_token}"}
    z = "%Y-%m-%dT%H:%M:%SZ"
    path = {"a1": "/bench/single-row", "b": "/api/v1/tariff", "c": "/api/v1/tariff"}.get(target)
    if target == "i":
        path = "/api/v1/tariff"
    if target in ("g", "h"):
        # The seeded prices' local days: today in London (24 hours), in Berlin (7 days).
        zone = "Europe/London" if target == "g" else "Europe/Berlin"
        day = dt.datetime.now(ZoneInfo(zone)).date()
        start, _ = local_day_bounds(day=day, timezone=zone)
        _, end = local_day_bounds(
            day=day + dt.timedelta(days=0 if target == "g" else 6), timezone=zone
        )
    if path is None:
        path = f"/api/v1/tariff/rates?start_time={start.strftime(z)}&end_time={end.strftime(z)}"
    if target in ("c", "i"):
        from django.test import Client

        headers["If-None-Match"] = Client().get(
            path, secure=True, HTTP_AUTHORIZATION=headers["Authorization"]
        )["ETag"]
    call = via_wsgi(path, headers)
    expect = 304 if target in ("c", "i") else 200
    for _ in range(20):
        status = call()
        if status != expect:
            raise SystemExit(f"{target}: expected {expect}, got {status}")
    for _ in range(count):
        call()
    print(f"{target}: {count} requests")


if __name__ == "__main__":
    main()
