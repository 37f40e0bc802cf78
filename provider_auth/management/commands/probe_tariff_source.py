"""Ask the configured tariff source about one account; print what it answers and exactly what
FlatPeak would receive from the tariff API (our format and FlatPeak's)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from accounts.models import Premise, User
from accounts.prices import local_day_bounds
from accounts.sources import tariff_source, tariff_source_path
from accounts.sources.base import (
    DIRECTIONS,
    SupplyAccountNotFound,
    SupplyPoint,
    TariffSourceError,
    TariffSourceMalformed,
    TariffSourceMisconfigured,
    TariffSourceUnavailable,
    freshness_scope,
)
from accounts.sources.stand_ins import contract_stand_in
from provider_auth.tariff_api.documents import tariff_document_render
from provider_auth.tariff_api.sourced import publication_get


def _customer(account: str) -> User:
    """Our customer with this account number (or email); else a stand-in carrying the number,
    so a platform's account can be probed before anyone from it has logged in here."""
    found = (
        User.objects.filter(account_number=account).first()
        or User.objects.filter(email__iexact=account).first()
    )
    return found or User(account_number=account)


def _premise(point: SupplyPoint) -> Premise:
    """The premise a grant for this supply point names (ours if stored, else its mirror)."""
    stored = Premise.objects.filter(reference=point.reference).first()
    return stored or Premise(reference=point.reference, **point.address.as_dict())


def _instant(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise CommandError(
            f"--at must be an ISO 8601 date-time, e.g. 2026-10-25T12:00:00Z: {e}"
        ) from e
    if parsed.tzinfo is None:
        raise CommandError("--at needs a UTC offset, e.g. 2026-10-25T12:00:00Z")
    return parsed.astimezone(dt.UTC)


class Command(BaseCommand):
    help = (
        "Print what the configured tariff source (TARIFF_SOURCE) answers for ACCOUNT (an account "
        "number, or a customer's email): supply points, the contract in force, its tariff and "
        "the day's prices, and the tariff documents FlatPeak would receive in both formats. "
        "Exits non-zero with the reason when the source cannot answer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", help="account number in the billing platform, or email")
        parser.add_argument("--direction", choices=DIRECTIONS, default="IMPORT")
        parser.add_argument("--at", type=_instant, default=None, help="instant (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        at: dt.datetime = options["at"] or timezone.now()
        direction: str = options["direction"]
        try:
            customer = _customer(options["account"])
        except DatabaseError as e:
            raise CommandError(f"Cannot read our database ({e}); has `migrate` run?") from e
        source = tariff_source()
        self.stdout.write(f"source: {tariff_source_path()}")
        self.stdout.write(f"at: {at.isoformat()}  direction: {direction}")
        try:
            with freshness_scope() as freshness:
                self._probe(source=source, customer=customer, direction=direction, at=at)
        except SupplyAccountNotFound as e:
            raise CommandError(f"No such account in the tariff source: {e}") from e
        except TariffSourceMisconfigured as e:
            raise CommandError(f"The tariff source is misconfigured: {e}") from e
        except TariffSourceMalformed as e:
            raise CommandError(f"The tariff source answered something we cannot read: {e}") from e
        except TariffSourceUnavailable as e:
            raise CommandError(f"The tariff source is unavailable: {e}") from e
        except TariffSourceError as e:
            raise CommandError(f"The tariff source failed: {e}") from e
        if freshness.stale:
            self.stdout.write(
                f"STALE: served from remembered data {freshness.age_seconds(now=timezone.now())} s "
                "old (the platform is unavailable)"
            )

    def _probe(self, *, source: Any, customer: User, direction: str, at: dt.datetime) -> None:
        points = source.supply_points(customer=customer)
        if not points:
            raise CommandError("The account has no supply points.")
        self.stdout.write(f"supply points: {len(points)}")
        for point in points:
            self.stdout.write(
                f"  {point.reference} {point.direction} meter point "
                f"{point.meter_point_number or '-'}: {point.address.one_line}"
            )
        found = False
        for reference in dict.fromkeys(p.reference for p in points if p.direction == direction):
            contract = source.contract_in_force(
                customer=customer, reference=reference, direction=direction, at=at
            )
            if contract is None:
                self.stdout.write(f"{reference}: no {direction} contract in force")
                continue
            found = True
            end = contract.end_at.isoformat() if contract.end_at else "open"
            self.stdout.write(
                f"{reference}: contract {contract.tariff_key} from {contract.start_at.isoformat()} "
                f"to {end} (version {contract.version})"
            )
            tariff = source.tariff(contract=contract, at=at)
            vat = "incl." if tariff.prices_include_vat else "excl."
            self.stdout.write(
                f"  tariff {tariff.name!r}: {tariff.pricing}, {tariff.currency}, {tariff.timezone}, "
                f"prices {vat} VAT, standing charge {tariff.standing_charge}/day "
                f"(version {tariff.version})"
            )
            for rule in tariff.rules:
                self.stdout.write(f"    {rule.valid_from}–{rule.valid_to} {rule.unit_rate}/kWh")
            point = next(p for p in points if p.reference == reference)
            document = contract_stand_in(premise=_premise(point), contract=contract, tariff=tariff)
            publication = publication_get(source=source, contract=contract, tariff=tariff, at=at)
            for output in ("provider", "flatpeak"):
                body = tariff_document_render(
                    contract=document, output=output, publication=publication
                ).decode()
                self.stdout.write(f"  GET /api/v1/tariff?format={output} would answer: {body}")
            if tariff.pricing != "schedule":
                day = at.astimezone(ZoneInfo(tariff.timezone)).date()
                start, end_at = local_day_bounds(day=day, timezone=tariff.timezone)
                series = source.prices_between(contract=contract, start=start, end=end_at, now=at)
                rates = [i.rate for i in series.intervals]
                self.stdout.write(
                    f"  prices on {day.isoformat()}: {len(rates)} intervals"
                    + (f", from {min(rates)} to {max(rates)}/kWh" if rates else "")
                    + f"; published until {series.published_until}, next update "
                    f"{series.next_update.isoformat()}"
                )
        if not found:
            raise CommandError(f"No {direction} contract in force at {at.isoformat()}.")
