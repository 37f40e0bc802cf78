"""Run inside the scale-out database (env from the harness): seed data or mint tokens.

    python tests/scaleout/seed.py seed          → JSON: client secret, customers
    python tests/scaleout/seed.py mint EMAIL N  → JSON: N refresh tokens of new active grants
    python tests/scaleout/seed.py sql "SELECT …" → JSON: rows (read-only checks)

Kept out of the test process on purpose: the instances use their own database, not
pytest-django's test database, so the harness drives everything over HTTP and through this.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provider_auth.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Contract, Direction, Premise, Tariff, TariffRule, User  # noqa: E402
from provider_auth.oauth import services as oauth_services  # noqa: E402
from provider_auth.oauth import tokens  # noqa: E402
from provider_auth.oauth.models import OAuthClient  # noqa: E402

PASSWORD = "correct-horse-battery-staple"
CUSTOMERS = ["flow", "lockout", "parallel", "refresh", "bench"]


def seed() -> dict[str, object]:
    secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
    OAuthClient.objects.create(
        client_id="flatpeak",
        client_secret_hash=tokens.secret_hash(secret),
        name="FlatPeak",
        redirect_uris=["https://connect.flatpeak.example/oauth/callback"],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["tariff:read"],
    )
    tariff = Tariff.objects.create(
        name="Fixed Saver",
        currency="GBP",
        timezone="Europe/London",
        standing_charge=Decimal("0.45"),
    )
    TariffRule.objects.create(
        tariff=tariff,
        valid_from="00:00",
        valid_to="24:00",
        unit_rate=Decimal("0.2450"),
        weekdays=list(range(7)),
        months=list(range(1, 13)),
    )
    now = timezone.now()
    customers = {}
    for n, name in enumerate(CUSTOMERS, start=1):
        email = f"{name}@scaleout.example"
        user = User.objects.create_user(email=email, password=PASSWORD)
        premise = Premise.objects.create(
            customer=user,
            reference=f"PRM-7{n:05d}",
            address_line1=f"{n} Scale Street",
            city="London",
            state="Greater London",
            post_code="WC2N 5EH",
            country_code="GB",
        )
        Contract.objects.create(
            premise=premise,
            tariff=tariff,
            direction=Direction.IMPORT,
            start_at=now - dt.timedelta(days=180),
            end_at=now + dt.timedelta(days=180),
        )
        customers[name] = {"email": email, "id": user.pk}
    return {
        "client_id": "flatpeak",
        "client_secret": secret,
        "password": PASSWORD,
        "customers": customers,
    }


def mint(email: str, count: int) -> dict[str, object]:
    user = User.objects.get(email=email)
    premise = Premise.objects.filter(customer=user).first()
    client = OAuthClient.objects.get(client_id="flatpeak")
    pairs = []
    for _ in range(count):
        _, issued = oauth_services.grant_issue(
            customer=user, premise=premise, client=client, directions=["IMPORT"]
        )
        pairs.append({"access_token": issued.access_token, "refresh_token": issued.refresh_token})
    return {"tokens": pairs}


def sql(query: str) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {"rows": [list(row) for row in cursor.fetchall()]}


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "seed":
        result = seed()
    elif command == "mint":
        result = mint(sys.argv[2], int(sys.argv[3]))
    elif command == "sql":
        result = sql(sys.argv[2])
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result, default=str))
