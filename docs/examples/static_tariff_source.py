"""A minimal tariff source for another billing platform (the README's "Use your own billing
system" example; `tests/accounts/sources/test_example_source.py` runs it).

Replace the two dictionaries with calls to your platform: keep every call bounded by a timeout,
raise `TariffSourceUnavailable` when it is down, `SupplyAccountNotFound` for an unknown account,
and return the interface's values in major currency units with exact decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.prices import PriceSeries
from accounts.sources.base import (
    ContractTerm,
    CustomerLike,
    PostalAddress,
    RateRule,
    RuleSet,
    SupplyAccountNotFound,
    SupplyPoint,
    TariffDefinition,
    data_version,
)

UTC = dt.UTC

# What the platform would answer: account number -> its one supply point and contracts.
ACCOUNTS = {
    "ACC-0001": {
        "reference": "EXT-000001",
        "address": PostalAddress("1 Example Street", "", "Exampleton", "", "ZZ1 1ZZ", "GB"),
        "meter_point": "1900000000042",
        "contracts": [("IMPORT", dt.datetime(2026, 1, 1, tzinfo=UTC), None, "FLAT-24")],
    }
}
TARIFFS = {"FLAT-24": ("Flat 24", Decimal("0.24"), Decimal("0.50"))}  # name, rate, standing


class StaticTariffSource:
    def _account(self, customer: CustomerLike) -> dict:
        account = ACCOUNTS.get(customer.account_number or "")
        if account is None:
            raise SupplyAccountNotFound("unknown account")
        return account

    def supply_points(self, *, customer: CustomerLike) -> list[SupplyPoint]:
        account = self._account(customer)
        directions = sorted({c[0] for c in account["contracts"]})
        return [
            SupplyPoint(account["reference"], account["address"], d, account["meter_point"])
            for d in directions
        ]

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        account = self._account(customer)
        if reference != account["reference"]:
            return []
        terms = [
            ContractTerm(reference, d, s, e, code, data_version([d, s, e, code]))
            for d, s, e, code in account["contracts"]
            if d == direction
        ]
        return [t for t in terms if t.overlaps(start, end)]

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        found = [
            t
            for t in self.contracts_overlapping(
                customer=customer,
                reference=reference,
                direction=direction,
                start=at,
                end=at + dt.timedelta(microseconds=1),
            )
            if t.in_force_at(at)
        ]
        return found[-1] if found else None

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        name, rate, standing = TARIFFS[contract.tariff_key]
        return TariffDefinition(
            key=contract.tariff_key,
            name=name,
            currency="GBP",
            timezone="Europe/London",
            pricing="schedule",
            prices_include_vat=True,
            standing_charge=standing,
            rules=RuleSet([RateRule(list(range(1, 13)), list(range(7)), "00:00", "24:00", rate)]),
            version=data_version([name, rate, standing]),
        )

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        raise ValueError("a schedule tariff has no price series; price it by its rules")
