"""The wholesale day-ahead markets (bidding zones) whose prices a market-indexed tariff follows.

Each zone has the time zone its market days are cut in (a day-ahead auction sells one local day,
23 or 25 hours long at a DST change), the currency its prices are published in, and its ENTSO-E
EIC code so an imported document can be checked against the zone it is meant for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class BiddingZone:
    code: str
    timezone: str
    currency: str
    eic: str


BIDDING_ZONES: dict[str, BiddingZone] = {
    zone.code: zone
    for zone in (
        BiddingZone("AT", "Europe/Vienna", "EUR", "10YAT-APG------L"),
        BiddingZone("BE", "Europe/Brussels", "EUR", "10YBE----------2"),
        BiddingZone("DE-LU", "Europe/Berlin", "EUR", "10Y1001A1001A82H"),
        BiddingZone("DK1", "Europe/Copenhagen", "EUR", "10YDK-1--------W"),
        BiddingZone("DK2", "Europe/Copenhagen", "EUR", "10YDK-2--------M"),
        BiddingZone("ES", "Europe/Madrid", "EUR", "10YES-REE------0"),
        BiddingZone("FI", "Europe/Helsinki", "EUR", "10YFI-1--------U"),
        BiddingZone("FR", "Europe/Paris", "EUR", "10YFR-RTE------C"),
        BiddingZone("GB", "Europe/London", "GBP", "10YGB----------A"),
        BiddingZone("NL", "Europe/Amsterdam", "EUR", "10YNL----------L"),
        BiddingZone("PL", "Europe/Warsaw", "PLN", "10YPL-AREA-----S"),
    )
}


def validate_bidding_zone(value: str) -> None:
    if value and value not in BIDDING_ZONES:
        raise ValidationError(
            _("%(value)s is not a known bidding zone (e.g. DE-LU, NL, GB)."),
            code="invalid_bidding_zone",
            params={"value": value},
        )
