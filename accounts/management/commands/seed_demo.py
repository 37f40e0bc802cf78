"""Create (or bring back) the demo customers alice, bob and carol with their premises, tariffs
and contracts (README: The demo)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.demo_prices import demo_dynamic_seed
from accounts.models import Contract, Direction, Premise, Tariff, User
from accounts.services import RuleSpec, contract_create, tariff_save_with_rules

WEEKDAYS = [0, 1, 2, 3, 4]
WEEKEND = [5, 6]


def _rule(valid_from: str, valid_to: str, rate: str, weekdays: list[int] | None = None) -> RuleSpec:
    return {
        "valid_from": valid_from,
        "valid_to": valid_to,
        "unit_rate": Decimal(rate),
        "weekdays": weekdays or list(range(7)),
        "months": list(range(1, 13)),
    }


TARIFFS: dict[str, dict[str, Any]] = {
    "Fixed Saver": {"standing_charge": "0.45", "rules": [_rule("00:00", "24:00", "0.2450")]},
    "Economy 7": {
        "standing_charge": "0.45",
        "rules": [
            _rule("00:00", "00:30", "0.2900"),
            _rule("00:30", "07:30", "0.1300"),
            _rule("07:30", "24:00", "0.2900"),
        ],
    },
    "EV Flex": {
        "standing_charge": "0.45",
        "rules": [
            _rule("00:00", "05:00", "0.0850"),
            _rule("05:00", "16:00", "0.2600", WEEKDAYS),
            _rule("16:00", "19:00", "0.3800", WEEKDAYS),
            _rule("19:00", "24:00", "0.2600", WEEKDAYS),
            _rule("05:00", "24:00", "0.2400", WEEKEND),
        ],
    },
    "Solar Export": {"standing_charge": "0.00", "rules": [_rule("00:00", "24:00", "0.1500")]},
}

# (email, password, full name, [(reference, address, [(direction, tariff, period)])])
# period: "current" = started ~6 months ago, ends in ~6 months; "ended" = ended last year.
CUSTOMERS: list[
    tuple[str, str, str, list[tuple[str, dict[str, str], list[tuple[str, str, str]]]]]
] = [
    (
        "alice@example.com",
        "alice-demo-pass",
        "Alice Example",
        [
            (
                "PRM-000001",
                {
                    "address_line1": "1-3 Strand",
                    "city": "London",
                    "state": "Greater London",
                    "post_code": "WC2N 5EH",
                    "country_code": "GB",
                },
                [(Direction.IMPORT, "Fixed Saver", "current")],
            )
        ],
    ),
    (
        "bob@example.com",
        "bob-demo-pass",
        "Bob Example",
        [
            (
                "PRM-000002",
                {
                    "address_line1": "10 Downing Street",
                    "city": "London",
                    "state": "Greater London",
                    "post_code": "SW1A 2AA",
                    "country_code": "GB",
                },
                [(Direction.IMPORT, "Economy 7", "current")],
            ),
            (
                "PRM-000003",
                {
                    "address_line1": "221B Baker Street",
                    "city": "London",
                    "state": "Greater London",
                    "post_code": "NW1 6XE",
                    "country_code": "GB",
                },
                [
                    (Direction.IMPORT, "EV Flex", "current"),
                    (Direction.EXPORT, "Solar Export", "current"),
                ],
            ),
        ],
    ),
    (
        "carol@example.com",
        "carol-demo-pass",
        "Carol Example",
        [
            (
                "PRM-000004",
                {
                    "address_line1": "5 Market Street",
                    "city": "Leeds",
                    "state": "West Yorkshire",
                    "post_code": "LS1 6DT",
                    "country_code": "GB",
                },
                [(Direction.IMPORT, "Fixed Saver", "ended")],
            )
        ],
    ),
]


def _period(kind: str, today: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if kind == "current":
        return today - dt.timedelta(days=182), today + dt.timedelta(days=183)
    last_year = today.year - 1
    return (
        dt.datetime(last_year - 1, 7, 1, tzinfo=dt.UTC),
        dt.datetime(last_year, 7, 1, tzinfo=dt.UTC),
    )


class Command(BaseCommand):
    help = (
        "Create the demo customers alice, bob and carol (passwords <name>-demo-pass), their "
        "premises PRM-000001..4, tariffs and contracts placed around today. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (a staging server). Never on production: the "
            "demo passwords are public.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or getattr(settings, "TESTING", False) or options["force"]):
            raise CommandError(
                "seed_demo creates accounts with public passwords; it runs only with DEBUG=true "
                "(or --force on a staging server)."
            )
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        tariffs = {}
        for name, spec in TARIFFS.items():
            existing = Tariff.objects.filter(name=name).order_by("pk").first()
            if existing is not None and _tariff_matches(existing, spec):
                tariffs[name] = existing  # unchanged: keep updated_at (the tariff API's ETag)
                continue
            tariffs[name] = tariff_save_with_rules(
                tariff=existing,
                name=name,
                currency="GBP",
                timezone_name="Europe/London",
                standing_charge=Decimal(spec["standing_charge"]),
                rules=spec["rules"],
            )
        for email, password, full_name, premises in CUSTOMERS:
            user = User.objects.filter(email__iexact=email).first() or User(email=email)
            user.full_name = full_name
            user.is_active = True
            if not user.pk or not user.check_password(password):
                user.set_password(password)
            user.save()
            for reference, address, contracts in premises:
                premise, _ = Premise.objects.update_or_create(
                    reference=reference, defaults={"customer": user, **address}
                )
                wanted = {
                    (direction, tariffs[tariff_name].pk, *_period(kind, today))
                    for direction, tariff_name, kind in contracts
                }
                have = set(
                    Contract.objects.filter(premise=premise).values_list(
                        "direction", "tariff_id", "start_at", "end_at"
                    )
                )
                if have == wanted:
                    continue
                # Replace the demo premise's contracts so they sit around today again.
                Contract.objects.filter(premise=premise).delete()
                for direction, tariff_name, kind in contracts:
                    start_at, end_at = _period(kind, today)
                    contract_create(
                        premise=premise,
                        tariff=tariffs[tariff_name],
                        direction=direction,
                        start_at=start_at,
                        end_at=end_at,
                    )
        # Dana (published half-hourly prices, GB) and Erik (market-indexed, DE-LU).
        dynamic_logins = demo_dynamic_seed(today_utc=today)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready: alice@example.com / alice-demo-pass, "
                "bob@example.com / bob-demo-pass, carol@example.com / carol-demo-pass "
                f"({Premise.objects.filter(reference__in=_references()).count()} premises, "
                f"{len(tariffs)} tariffs); dynamic prices: {', '.join(dynamic_logins)}."
            )
        )


def _references() -> list[str]:
    return [ref for _, _, _, premises in CUSTOMERS for ref, _, _ in premises]


def _tariff_matches(tariff: Tariff, spec: dict[str, Any]) -> bool:
    def key(months: Any, weekdays: Any, start: str, end: str, rate: Any, tier: Any) -> tuple:
        return (tuple(months), tuple(weekdays), start, end, Decimal(rate), tier)

    have = sorted(
        key(r.months, r.weekdays, r.valid_from, r.valid_to, r.unit_rate, r.tier_to_kwh)
        for r in tariff.rules.all()
    )
    want = sorted(
        key(r["months"], r["weekdays"], r["valid_from"], r["valid_to"], r["unit_rate"], None)
        for r in spec["rules"]
    )
    return (
        have == want
        and tariff.standing_charge == Decimal(spec["standing_charge"])
        and tariff.currency == "GBP"
        and tariff.timezone == "Europe/London"
    )
