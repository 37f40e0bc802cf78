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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provider_auth.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Contract, Direction, Premise, Tariff, TariffRule, User  # noqa: E402
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
