"""Seed the benchmark database (ours) and mint tokens in bulk. Run with the benchmark's env:

python benchmarks/seed.py seed OUT.json        customers, tariff, FlatPeak client, one token
python benchmarks/seed.py mint N OUT.txt       N fresh refresh tokens (one grant each)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provider_auth.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import (  # noqa: E402
    Contract,
    Direction,
    Premise,
    Pricing,
    Tariff,
    TariffRule,
    User,
)
from provider_auth.oauth import services as oauth_services  # noqa: E402
from provider_auth.oauth import tokens  # noqa: E402
from provider_auth.oauth.models import Grant, GrantStatus, OAuthClient, RefreshToken  # noqa: E402

PASSWORD = "correct-horse-battery-staple"
FLOW_USERS = 24


def _customer(email: str, n: int, tariff: Tariff, password_hash: str) -> tuple[User, Premise]:
    user = User.objects.create(email=email, password=password_hash, is_active=True)
    premise = Premise.objects.create(
        customer=user,
        reference=f"PRM-8{n:05d}",
        address_line1=f"{n} Bench Street",
        city="London",
        state="Greater London",
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
    return user, premise


def bench_tariff_create() -> Tariff:
    """A realistic time-of-use tariff: night, day, peak on weekdays, flat at weekends."""
    tariff = Tariff.objects.create(
        name="Bench Time of Use",
        currency="GBP",
        timezone="Europe/London",
        standing_charge=Decimal("0.45"),
    )
    weekdays, weekend = [0, 1, 2, 3, 4], [5, 6]
    for valid_from, valid_to, rate, days in [
        ("00:00", "07:00", "0.0950", weekdays),
        ("07:00", "16:00", "0.2450", weekdays),
        ("16:00", "19:00", "0.3850", weekdays),
        ("19:00", "24:00", "0.2450", weekdays),
        ("00:00", "24:00", "0.2150", weekend),
    ]:
        TariffRule.objects.create(
            tariff=tariff,
            valid_from=valid_from,
            valid_to=valid_to,
            unit_rate=Decimal(rate),
            weekdays=days,
            months=list(range(1, 13)),
        )
    return tariff


def _csv(rows: list[tuple[dt.datetime, dt.datetime, Decimal]]) -> bytes:
    def z(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    lines = ["valid_from,valid_to,value"] + [f"{z(a)},{z(b)},{v}" for a, b, v in rows]
    return ("\n".join(lines) + "\n").encode()


def _local_midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def _series(start: dt.datetime, end: dt.datetime, minutes: int, value: Any) -> list[Any]:
    step = dt.timedelta(minutes=minutes)
    rows = []
    i = 0
    while start + step * (i + 1) <= end:
        rows.append((start + step * i, start + step * (i + 1), Decimal(value(i))))
        i += 1
    return rows


def bench_priced_create(client: OAuthClient) -> dict[str, str]:
    """Two customers with priced tariffs, each with a live FlatPeak token, and the rates query
    of each benchmark target: 24 hours of half-hourly published prices (today in London, and
    tomorrow published too), and 7 days of 15-minute market-indexed prices (DE-LU, from today's
    midnight in Berlin: 672 intervals). Prices follow a daily shape with negative hours."""
    from accounts.price_import import price_import_target, prices_import

    now = timezone.now()
    agile = Tariff.objects.create(
        name="Bench Agile",
        currency="GBP",
        timezone="Europe/London",
        standing_charge=Decimal("0.45"),
        pricing=Pricing.PUBLISHED,
    )
    TariffRule.objects.create(
        tariff=agile, valid_from="00:00", valid_to="24:00", unit_rate=Decimal("0")
    )
    dynamic = Tariff.objects.create(
        name="Bench Dynamisch",
        currency="EUR",
        timezone="Europe/Berlin",
        standing_charge=Decimal("0.40"),
        pricing=Pricing.MARKET_INDEXED,
        bidding_zone="DE-LU",
    )
    for valid_from, valid_to, fixed in (("00:00", "06:00", "0.12"), ("06:00", "24:00", "0.16")):
        TariffRule.objects.create(
            tariff=dynamic,
            valid_from=valid_from,
            valid_to=valid_to,
            unit_rate=Decimal("0"),
            surcharge_fixed=Decimal(fixed),
            surcharge_percentage=Decimal("0.19"),
        )
    london_today = now.astimezone(ZoneInfo("Europe/London")).date()
    london_start = _local_midnight(london_today, "Europe/London")
    london_end = _local_midnight(london_today + dt.timedelta(days=2), "Europe/London")
    prices_import(
        data=_csv(_series(london_start, london_end, 30, lambda i: f"{(i % 48 - 12) / 100:.4f}")),
        file_format="csv",
        target=price_import_target(tariff=agile),
        now=now,
    )
    berlin_today = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    berlin_start = _local_midnight(berlin_today, "Europe/Berlin")
    berlin_end = _local_midnight(berlin_today + dt.timedelta(days=7), "Europe/Berlin")
    prices_import(
        data=_csv(_series(berlin_start, berlin_end, 15, lambda i: f"{(i % 96) * 2 - 40}.00")),
        file_format="csv",
        target=price_import_target(zone="DE-LU"),
        now=now,
    )
    out: dict[str, str] = {}
    for n, (name, tariff, start, end) in enumerate(
        (
            ("published", agile, london_start, london_start + dt.timedelta(days=1)),
            ("market", dynamic, berlin_start, berlin_end),
        )
    ):
        user = User.objects.create(email=f"bench-{name}@bench.example", is_active=True)
        premise = Premise.objects.create(
            customer=user,
            reference=f"PRM-7{n:05d}",
            address_line1=f"{n} Bench Street",
            city="London" if name == "published" else "Berlin",
            post_code="WC2N 5EH" if name == "published" else "10115",
            country_code="GB" if name == "published" else "DE",
        )
        Contract.objects.create(
            premise=premise,
            tariff=tariff,
            direction=Direction.IMPORT,
            start_at=now - dt.timedelta(days=180),
            end_at=now + dt.timedelta(days=180),
        )
        _, issued = oauth_services.grant_issue(
            customer=user, premise=premise, client=client, directions=["IMPORT"]
        )
        z = "%Y-%m-%dT%H:%M:%SZ"
        out[f"{name}_access_token"] = issued.access_token
        out[f"{name}_rates_path"] = (
            f"/api/v1/tariff/rates?start_time={start.strftime(z)}&end_time={end.strftime(z)}"
        )
    return out


# The customer the Kraken-source targets read: its account and prices are the recorded fixtures
# (tests/accounts/sources/fixtures/kraken/), served by tests/fakes/kraken.py.
KRAKEN_ACCOUNT = "A-3333CCCC"


def bench_kraken_create(client: OAuthClient) -> dict[str, str]:
    """A customer whose tariff comes from Kraken (an open-ended agreement, so any day will do),
    with a live grant: the Kraken server answers its polls."""
    user = User.objects.create(
        email="bench-kraken@bench.example", is_active=True, account_number=KRAKEN_ACCOUNT
    )
    premise = Premise.objects.create(
        customer=user,
        reference="KRP-3000001",  # the fixture's property 3000001
        address_line1="3 Bench Row",
        city="Sampleford",
        post_code="ZZ9 3ZZ",
        country_code="GB",
    )
    _, issued = oauth_services.grant_issue(
        customer=user, premise=premise, client=client, directions=["IMPORT"]
    )
    return {"kraken_access_token": issued.access_token}


def seed(out: str) -> None:
    secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
    client = OAuthClient.objects.create(
        client_id="flatpeak",
        client_secret_hash=tokens.secret_hash(secret),
        name="FlatPeak",
        redirect_uris=["https://connect.flatpeak.example/oauth/callback"],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["tariff:read"],
    )
    tariff = bench_tariff_create()
    user, premise = _customer("bench@bench.example", 1, tariff, make_password(PASSWORD))
    _, issued = oauth_services.grant_issue(
        customer=user, premise=premise, client=client, directions=["IMPORT"]
    )
    priced = bench_priced_create(client)
    kraken = bench_kraken_create(client)
    # Flow customers: MD5 hashes for the fast-hasher run, Argon2 for the production one.
    fast_hash = make_password(PASSWORD, hasher="md5") if "md5" in _hashers() else None
    slow_hash = make_password(PASSWORD, hasher="argon2")
    for i in range(FLOW_USERS):
        if fast_hash:
            _customer(f"flow-fast-{i}@bench.example", 100 + i, tariff, fast_hash)
        _customer(f"flow-prod-{i}@bench.example", 200 + i, tariff, slow_hash)
    Path(out).write_text(
        json.dumps(
            {
                "client_id": client.client_id,
                "client_secret": secret,
                "access_token": issued.access_token,
                "password": PASSWORD,
                "flow_users": FLOW_USERS,
                **priced,
                **kraken,
            }
        )
    )


def _hashers() -> set[str]:
    from django.contrib.auth.hashers import get_hashers

    return {h.algorithm for h in get_hashers()}


def mint(count: int, out: str) -> None:
    """Fresh refresh tokens, one active grant each, written in bulk (not through the grant
    services: this only pre-creates the rows a first rotation would have made)."""
    user = User.objects.get(email="bench@bench.example")
    premise = Premise.objects.get(customer=user)
    client = OAuthClient.objects.get(client_id="flatpeak")
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
        ],
        batch_size=1000,
    )
    plaintexts = [tokens.secret_generate(tokens.REFRESH_TOKEN_PREFIX) for _ in grants]
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(
                grant=grant,
                token_hash=tokens.secret_hash(value),
                scope="tariff:read",
                created_at=now,
                expires_at=now + dt.timedelta(days=90),
            )
            for grant, value in zip(grants, plaintexts, strict=True)
        ],
        batch_size=1000,
    )
    Path(out).write_text("\n".join(plaintexts) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2])
    elif sys.argv[1] == "mint":
        mint(int(sys.argv[2]), sys.argv[3])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
