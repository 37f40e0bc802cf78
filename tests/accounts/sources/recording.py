"""Our database as the tariff source, recording every call of the interface.

A subclass of `LocalTariffSource`, not a wrapper around it: any `isinstance(…,
LocalTariffSource)` shortcut still takes it for our database, so a page that reads the database
behind the interface's back leaves the record empty and its test fails.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.prices import PriceSeries
from accounts.sources.base import ContractTerm, CustomerLike, SupplyPoint, TariffDefinition
from accounts.sources.local import LocalTariffSource

RECORDING_SOURCE = "tests.accounts.sources.recording.RecordingTariffSource"

# (method, customer pk) for supply_points; (method, supply point reference, direction) else.
Call = tuple[Any, ...]


class RecordingTariffSource(LocalTariffSource):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    def supply_points(self, *, customer: CustomerLike) -> list[SupplyPoint]:
        self.calls.append(("supply_points", customer.pk))
        return super().supply_points(customer=customer)

    def contract_in_force(
        self, *, customer: CustomerLike, reference: str, direction: str, at: dt.datetime
    ) -> ContractTerm | None:
        self.calls.append(("contract_in_force", reference, direction))
        return super().contract_in_force(
            customer=customer, reference=reference, direction=direction, at=at
        )

    def contracts_overlapping(
        self,
        *,
        customer: CustomerLike,
        reference: str,
        direction: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ContractTerm]:
        self.calls.append(("contracts_overlapping", reference, direction))
        return super().contracts_overlapping(
            customer=customer, reference=reference, direction=direction, start=start, end=end
        )

    def tariff(self, *, contract: ContractTerm, at: dt.datetime) -> TariffDefinition:
        self.calls.append(("tariff", contract.supply_point_reference, contract.direction))
        return super().tariff(contract=contract, at=at)

    def prices_between(
        self,
        *,
        contract: ContractTerm,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime | None = None,
    ) -> PriceSeries:
        self.calls.append(("prices_between", contract.supply_point_reference, contract.direction))
        return super().prices_between(contract=contract, start=start, end=end, now=now)
