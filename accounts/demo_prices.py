"""Demo customers on a published-prices tariff (GB) and a market-indexed tariff (DE-LU).

Prices come from the shapes of the sample files in `accounts/samples`, laid onto yesterday, today
and tomorrow (published) and today (wholesale), so the demo always has current prices. Seeding is
idempotent: a day whose prices are already the wanted ones is left alone, so its version — and
every ETag built on it — stays put.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import (
    Contract,
    Direction,
    Premise,
    Pricing,
    PublishedPrice,
    Tariff,
    User,
    WholesalePrice,
)
from accounts.price_import import (
    PriceErrors,
    PriceTarget,
    parse_entsoe,
    price_import_target,
    prices_import,
)
from accounts.prices import local_day_bounds
from accounts.services import RuleSpec, contract_create, tariff_save_with_rules

SAMPLES = Path(__file__).resolve().parent / "samples"
OCTOPUS_SAMPLE = SAMPLES / "octopus-agile-2026-01-15.json"
ENTSOE_SAMPLE = SAMPLES / "entsoe-a44-de-lu-2026-01-15.xml"

AGILE = "Agile Demo"
DYNAMIC = "Dynamisch Demo"


# Demo customers: (email, password, full name, reference, address, tariff name)
CUSTOMERS: list[tuple[str, str, str, str, dict[str, str], str]] = [
    (
        "dana@example.com",
        "dana-demo-pass",
        "Dana Example",
        "PRM-000005",
        {
            "address_line1": "2 Deansgate",
            "city": "Manchester",
            "state": "Greater Manchester",
            "post_code": "M3 2BW",
            "country_code": "GB",
        },
        AGILE,
    ),
    (
        "erik@example.com",
        "erik-demo-pass",
        "Erik Beispiel",
        "PRM-000006",
        {
            "address_line1": "Unter den Linden 1",
            "city": "Berlin",
            "state": "Berlin",
            "post_code": "10117",
            "country_code": "DE",
        },
        DYNAMIC,
    ),
]

TARIFFS: dict[str, dict[str, Any]] = {
    AGILE: {
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge": Decimal("0.4800"),
        "pricing": Pricing.PUBLISHED,
        "bidding_zone": "",
        "publish_time": dt.time(16, 0),
        "bands": [("00:00", "24:00", "0", "0")],
    },
    DYNAMIC: {
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "standing_charge": Decimal("0.3900"),
        "pricing": Pricing.MARKET_INDEXED,
        "bidding_zone": "DE-LU",
        "publish_time": dt.time(13, 0),
        # grid fees and levies per kWh, then 19 % VAT; cheaper network charges at night
        "bands": [("00:00", "06:00", "0.1200", "0.19"), ("06:00", "24:00", "0.1650", "0.19")],
    },
}


def _sample_shape_half_hours() -> list[Decimal]:
    """The Octopus sample's 48 inc-VAT prices in time order, pounds per kWh."""
    results = json.loads(OCTOPUS_SAMPLE.read_text(), parse_float=Decimal)["results"]
    ordered = sorted(results, key=lambda r: r["valid_from"])
    return [Decimal(r["value_inc_vat"]).scaleb(-2) for r in ordered]


def _sample_quarter_hours() -> list[Decimal]:
    """The ENTSO-E sample's 96 prices (€/MWh), the omitted A03 position filled."""
    target = PriceTarget(None, "DE-LU", "", "Europe/Berlin", "EUR")
    return [
        i.value
        for i in parse_entsoe(data=ENTSOE_SAMPLE.read_bytes(), target=target, errors=PriceErrors())
    ]


def _laid_on(
    *, day: dt.date, timezone: str, minutes: int, shape: list[Decimal], shift: Decimal
) -> list[tuple[dt.datetime, dt.datetime, Decimal]]:
    """`shape` (one value per slot of a 24-hour day) laid onto a local day of 23, 24 or 25 hours:
    each interval takes the value of its local wall-clock slot."""
    start, end = local_day_bounds(day=day, timezone=timezone)
    zone = ZoneInfo(timezone)
    step = dt.timedelta(minutes=minutes)
    rows = []
    at = start
    while at < end:
        local = at.astimezone(zone)
        slot = (local.hour * 60 + local.minute) // minutes
        rows.append((at, at + step, shape[slot] + shift))
        at += step
    return rows


def _csv(rows: list[tuple[dt.datetime, dt.datetime, Decimal]]) -> bytes:
    def stamp(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    lines = ["valid_from,valid_to,value"] + [f"{stamp(a)},{stamp(b)},{v}" for a, b, v in rows]
    return "\n".join(lines).encode()


def _tariff(name: str) -> Tariff:
    spec = TARIFFS[name]
    bands = {
        (start, end): (Decimal(fixed), Decimal(percentage))
        for start, end, fixed, percentage in spec["bands"]
    }
    tariff = Tariff.objects.filter(name=name).order_by("pk").first()
    if (
        tariff is not None
        and tariff.currency == spec["currency"]
        and tariff.timezone == spec["timezone"]
        and tariff.standing_charge == spec["standing_charge"]
        and tariff.pricing == spec["pricing"]
        and tariff.bidding_zone == spec["bidding_zone"]
        and tariff.prices_publish_time == spec["publish_time"]
        and {
            (r.valid_from, r.valid_to): (r.surcharge_fixed, r.surcharge_percentage)
            for r in tariff.rules.all()
        }
        == bands
    ):
        return tariff  # unchanged: keep updated_at (the tariff API's ETag)
    # The rates of a published or market-indexed tariff are not in its rules; the rules carry
    # the market-indexed surcharges per band and a zero unit rate.
    rules: list[RuleSpec] = [
        {"valid_from": start, "valid_to": end, "unit_rate": Decimal(0)} for start, end in bands
    ]
    tariff = tariff_save_with_rules(
        tariff=tariff,
        name=name,
        currency=spec["currency"],
        timezone_name=spec["timezone"],
        standing_charge=spec["standing_charge"],
        rules=rules,
    )
    tariff.pricing = spec["pricing"]
    tariff.bidding_zone = spec["bidding_zone"]
    tariff.prices_publish_time = spec["publish_time"]
    tariff.prices_include_vat = True
    tariff.save()
    for rule in tariff.rules.all():
        rule.surcharge_fixed, rule.surcharge_percentage = bands[(rule.valid_from, rule.valid_to)]
        rule.save(update_fields=["surcharge_fixed", "surcharge_percentage"])
    return tariff


def demo_dynamic_seed(*, today_utc: dt.datetime) -> list[str]:
    """Create or repair the dynamic-price demo; returns the demo logins it made sure of."""
    agile = _tariff(AGILE)
    dynamic = _tariff(DYNAMIC)
    london_today = today_utc.astimezone(ZoneInfo("Europe/London")).date()
    shape = _sample_shape_half_hours()
    for offset, shift in ((-1, Decimal("0.0100")), (0, Decimal("0")), (1, Decimal("-0.0050"))):
        day = london_today + dt.timedelta(days=offset)
        rows = _laid_on(day=day, timezone="Europe/London", minutes=30, shape=shape, shift=shift)
        have = list(
            PublishedPrice.objects.filter(
                tariff=agile, region="", valid_from__gte=rows[0][0], valid_from__lt=rows[-1][1]
            )
            .order_by("valid_from")
            .values_list("valid_from", "valid_to", "value")
        )
        if have != rows:
            prices_import(
                data=_csv(rows), file_format="csv", target=price_import_target(tariff=agile)
            )
    berlin_today = today_utc.astimezone(ZoneInfo("Europe/Berlin")).date()
    rows = _laid_on(
        day=berlin_today,
        timezone="Europe/Berlin",
        minutes=15,
        shape=_sample_quarter_hours(),
        shift=Decimal(0),
    )
    have = list(
        WholesalePrice.objects.filter(
            zone="DE-LU", valid_from__gte=rows[0][0], valid_from__lt=rows[-1][1]
        )
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "price")
    )
    if have != rows:
        prices_import(data=_csv(rows), file_format="csv", target=price_import_target(zone="DE-LU"))
    tariffs = {AGILE: agile, DYNAMIC: dynamic}
    logins = []
    for email, password, full_name, reference, address, tariff_name in CUSTOMERS:
        user = User.objects.filter(email__iexact=email).first() or User(email=email)
        user.full_name = full_name
        user.is_active = True
        if not user.pk or not user.check_password(password):
            user.set_password(password)
        user.save()
        premise, _ = Premise.objects.update_or_create(
            reference=reference, defaults={"customer": user, **address}
        )
        start_at = today_utc - dt.timedelta(days=30)
        end_at = today_utc + dt.timedelta(days=335)
        wanted = {(Direction.IMPORT.value, tariffs[tariff_name].pk, start_at, end_at)}
        have_contracts = set(
            Contract.objects.filter(premise=premise).values_list(
                "direction", "tariff_id", "start_at", "end_at"
            )
        )
        if have_contracts != wanted:
            Contract.objects.filter(premise=premise).delete()
            contract_create(
                premise=premise,
                tariff=tariffs[tariff_name],
                direction=Direction.IMPORT,
                start_at=start_at,
                end_at=end_at,
            )
        logins.append(f"{email} / {password}")
    return logins
