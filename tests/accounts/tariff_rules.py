"""Tariff rule tables shared by the tariff and chart tests: (valid_from, valid_to, unit_rate[, days])."""

from __future__ import annotations

from typing import Any

# Economy 7: the cheap night window every day.
ECONOMY_7 = [
    ("00:00", "00:30", "0.2900"),
    ("00:30", "07:30", "0.1300"),
    ("07:30", "24:00", "0.2900"),
]
# An EV tariff: cheap nights, a weekday evening peak, a flat weekend day (days: 0 = Monday).
EV_FLEX = [
    ("00:00", "05:00", "0.0850"),
    ("05:00", "16:00", "0.2600", [0, 1, 2, 3, 4]),
    ("16:00", "19:00", "0.3800", [0, 1, 2, 3, 4]),
    ("19:00", "24:00", "0.2600", [0, 1, 2, 3, 4]),
    ("05:00", "24:00", "0.2400", [5, 6]),
]


def rule_set_of(tariff: Any) -> dict[str, Any]:
    """The plain values `tariff_rates_between` prices: a tariff's rules and its time zone."""
    return {"rules": tariff.rules.all(), "timezone": tariff.timezone}
