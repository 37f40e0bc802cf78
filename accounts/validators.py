"""Field validators for the provider's domain: codes, time zones and wall-clock windows."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# ISO 3166-1 alpha-2 assigned codes (plus "XK", used by many registries for Kosovo).
COUNTRY_CODES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT
    ZA ZM ZW""".split()
)

# ISO 4217 active codes for the currencies an energy provider plausibly bills in.
CURRENCY_CODES = frozenset(
    """AED AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EUR GBP HKD HUF IDR ILS INR ISK JPY KRW MXN
    MYR NOK NZD PHP PLN RON SAR SEK SGD THB TRY TWD UAH USD ZAR""".split()
)

_WALL_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_PREMISE_REFERENCE = re.compile(r"^[A-Z]{2,5}-[A-Z0-9]{3,24}$")

WEEKDAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def all_months() -> list[int]:
    return list(range(1, 13))


def all_weekdays() -> list[int]:
    return list(range(7))


def validate_country_code(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-2 country code (e.g. GB)."),
            code="invalid_country",
            params={"value": value},
        )


def validate_currency_code(value: str) -> None:
    if value not in CURRENCY_CODES:
        raise ValidationError(
            _("%(value)s is not a supported ISO 4217 currency code (e.g. GBP)."),
            code="invalid_currency",
            params={"value": value},
        )


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone_name(value: str) -> None:
    if value not in _known_timezones():
        raise ValidationError(
            _("%(value)s is not a tz database time zone (e.g. Europe/London)."),
            code="invalid_timezone",
            params={"value": value},
        )


def validate_wall_clock(value: str) -> None:
    if not isinstance(value, str) or not _WALL_CLOCK.match(value):
        raise ValidationError(
            _("Use a local time as HH:MM between 00:00 and 24:00."), code="invalid_time"
        )


def validate_premise_reference(value: str) -> None:
    if not _PREMISE_REFERENCE.match(value or ""):
        raise ValidationError(
            _("A reference looks like PRM-000123 (capital letters, a dash, letters or digits)."),
            code="invalid_reference",
        )


def wall_clock_minutes(value: str) -> int:
    """'07:30' → 450; '24:00' → 1440."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def validate_months(value: Any) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 12 for m in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            {"months": _("Months are a non-empty list of distinct numbers 1–12.")}
        )


def validate_weekdays(value: Any) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            {"weekdays": _("Days are a non-empty list of distinct numbers 0 (Monday)–6 (Sunday).")}
        )
