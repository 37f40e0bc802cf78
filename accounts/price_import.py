"""Import a price series from a file: parse, validate everything, then store all or nothing.

Three formats: `entsoe` (the ENTSO-E Transparency Platform's day-ahead prices document,
`Publication_MarketDocument` type A44, per MWh), `octopus` (the unit-rates JSON of Octopus
Energy's public products API, pence per kWh) and `csv` (header `valid_from,valid_to,value`, RFC
3339 times; major units per kWh for a tariff, per MWh for a zone). Files are untrusted: XML is
parsed with defusedxml, which refuses DTDs, entity expansion and external entities (the
"billion laughs" and XXE attacks), and size and row count are bounded before parsing.

Every problem is reported with its place in the file (`line 7`, `results[3]`,
`TimeSeries[1].Period[1].Point[12]`). The series must be whole local days (23, 24 or 25 hours in
the tariff's or zone's time zone), contiguous, on a 15, 30 or 60-minute grid with one resolution
per day. Storing a day replaces what was there and bumps that day's version.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import defusedxml
import defusedxml.ElementTree as SafeET
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone
from django.utils.dateparse import parse_datetime

from accounts.bidding_zones import BIDDING_ZONES
from accounts.models import PricePublication, PublishedPrice, Tariff, WholesalePrice
from accounts.prices import local_day_bounds

FORMATS = ("entsoe", "octopus", "csv")
CSV_HEADER = ["valid_from", "valid_to", "value"]
RESOLUTIONS = {"PT15M": 15, "PT30M": 30, "PT60M": 60, "PT1H": 60}
UTC = dt.UTC


class PriceImportInvalid(Exception):
    """The file was not imported; `errors` lists every problem as 'place: message'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


@dataclass(frozen=True)
class RawInterval:
    position: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    value: Decimal


@dataclass
class PriceImportResult:
    days: list[dt.date] = field(default_factory=list)
    intervals: int = 0
    versions: dict[dt.date, int] = field(default_factory=dict)
    dry_run: bool = False


@dataclass(frozen=True)
class PriceTarget:
    """Where an import goes: a published-prices tariff (per kWh) or a bidding zone (per MWh)."""

    tariff: Tariff | None
    zone: str
    region: str
    timezone: str
    currency: str

    @property
    def per_mwh(self) -> bool:
        return self.tariff is None


class PriceErrors:
    """Problems collected while reading a file, each as 'place: message'."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, place: str, message: str) -> None:
        self.items.append(f"{place}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise PriceImportInvalid(self.items)


def _instant(value: Any, place: str, errors: PriceErrors) -> dt.datetime | None:
    parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        errors.add(place, "must be an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z")
        return None
    return parsed.astimezone(UTC)


def _decimal(value: Any, place: str, errors: PriceErrors) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        errors.add(place, "must be a decimal number")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(place, f"{str(value)[:40]!r} is not a decimal number")
        return None
    if not number.is_finite():
        errors.add(place, "must be a finite number")
        return None
    return number


# --- Parsers: bytes → [RawInterval] -------------------------------------------------------


def _local(element: Any) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def _child(element: Any, name: str) -> Any:
    for child in element:
        if _local(child) == name:
            return child
    return None


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child) == name]


def _text(element: Any, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None or child.text is None else child.text.strip()


def _entsoe_instant(value: str | None, place: str, errors: PriceErrors) -> dt.datetime | None:
    # ENTSO-E writes "2026-01-14T23:00Z" (no seconds), which RFC 3339 parsers may refuse.
    if value and len(value) == 17 and value.endswith("Z"):
        value = value[:-1] + ":00Z"
    return _instant(value, place, errors)


def parse_entsoe(*, data: bytes, target: PriceTarget, errors: PriceErrors) -> list[RawInterval]:
    """ENTSO-E A44: TimeSeries → Period(timeInterval, resolution) → Point(position, price)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as e:
        errors.add(
            "document",
            "refused: the XML declares a DTD, entities or external references "
            f"({type(e).__name__}); a price document never needs them",
        )
        return []
    except SafeET.ParseError as e:
        errors.add("document", f"is not well-formed XML ({e})")
        return []
    if _local(root) != "Publication_MarketDocument":
        errors.add("document", f"is a {_local(root)}, not a Publication_MarketDocument")
        return []
    if _text(root, "type") != "A44":
        errors.add("document.type", f"is {_text(root, 'type')!r}, not A44 (day-ahead prices)")
    intervals: list[RawInterval] = []
    expected_eic = BIDDING_ZONES[target.zone].eic if target.zone in BIDDING_ZONES else None
    for t, series in enumerate(_children(root, "TimeSeries"), start=1):
        place = f"TimeSeries[{t}]"
        domain = _text(series, "in_Domain.mRID")
        if expected_eic and domain != expected_eic:
            errors.add(
                f"{place}.in_Domain.mRID",
                f"is {domain!r}, not the bidding zone {target.zone} ({expected_eic})",
            )
        currency = _text(series, "currency_Unit.name")
        if currency != target.currency:
            errors.add(f"{place}.currency_Unit.name", f"is {currency!r}, not {target.currency}")
        unit = _text(series, "price_Measure_Unit.name")
        if unit != "MWH":
            errors.add(f"{place}.price_Measure_Unit.name", f"is {unit!r}, not MWH")
        curve = _text(series, "curveType") or "A01"
        if curve not in ("A01", "A03"):
            errors.add(f"{place}.curveType", f"{curve!r} is not A01 or A03")
        for p, period in enumerate(_children(series, "Period"), start=1):
            intervals += _entsoe_period(period, f"{place}.Period[{p}]", curve, errors)
    if not intervals and not errors.items:
        errors.add("document", "has no TimeSeries with prices")
    return intervals


def _entsoe_period(period: Any, place: str, curve: str, errors: PriceErrors) -> list[RawInterval]:
    interval = _child(period, "timeInterval")
    start = _entsoe_instant(
        _text(interval, "start") if interval is not None else None,
        f"{place}.timeInterval.start",
        errors,
    )
    end = _entsoe_instant(
        _text(interval, "end") if interval is not None else None,
        f"{place}.timeInterval.end",
        errors,
    )
    resolution = _text(period, "resolution")
    minutes = RESOLUTIONS.get(resolution or "")
    if minutes is None:
        errors.add(f"{place}.resolution", f"{resolution!r} is not PT15M, PT30M or PT60M")
    if start is None or end is None or minutes is None:
        return []
    step = dt.timedelta(minutes=minutes)
    if end <= start or (end - start) % step:
        errors.add(f"{place}.timeInterval", f"is not a whole number of {minutes}-minute steps")
        return []
    count = (end - start) // step
    prices: dict[int, tuple[str, Decimal]] = {}
    for k, point in enumerate(_children(period, "Point"), start=1):
        where = f"{place}.Point[{k}]"
        raw_position = _text(point, "position")
        try:
            position = int(raw_position or "")
        except ValueError:
            errors.add(f"{where}.position", f"{raw_position!r} is not a whole number")
            continue
        if not 1 <= position <= count:
            errors.add(f"{where}.position", f"{position} is outside 1–{count} of the period")
            continue
        if position in prices:
            errors.add(
                f"{where}.position",
                f"duplicate point: position {position} is also {prices[position][0]}",
            )
            continue
        value = _decimal(_text(point, "price.amount"), f"{where}.price.amount", errors)
        if value is not None:
            prices[position] = (where, value)
    result = []
    previous: tuple[str, Decimal] | None = None
    for position in range(1, count + 1):
        known = prices.get(position)
        if known is None and curve == "A03" and previous is not None:
            # A03 (variable sized block): an omitted position repeats the previous price.
            known = (f"{previous[0]} (repeated at position {position})", previous[1])
        if known is None:
            errors.add(place, f"position {position} is missing (curve type {curve})")
            continue
        previous = known
        begins = start + step * (position - 1)
        result.append(RawInterval(known[0], begins, begins + step, known[1]))
    return result


def parse_octopus(*, data: bytes, target: PriceTarget, errors: PriceErrors) -> list[RawInterval]:
    """Octopus unit rates: `results` newest first, pence per kWh, with and without VAT."""
    try:
        document = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError:
        errors.add("document", "is not UTF-8 text")
        return []
    except json.JSONDecodeError as e:
        errors.add("document", f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
        return []
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        errors.add("document", "has no `results` list")
        return []
    key = (
        "value_inc_vat"
        if target.tariff is not None and target.tariff.prices_include_vat
        else ("value_exc_vat")
    )
    intervals = []
    for i, record in enumerate(results):
        place = f"results[{i}]"
        if not isinstance(record, dict):
            errors.add(place, "must be an object")
            continue
        valid_from = _instant(record.get("valid_from"), f"{place}.valid_from", errors)
        valid_to = _instant(record.get("valid_to"), f"{place}.valid_to", errors)
        pence = _decimal(record.get(key), f"{place}.{key}", errors)
        if valid_from and valid_to and pence is not None:
            intervals.append(RawInterval(place, valid_from, valid_to, pence.scaleb(-2)))
    return intervals


def parse_csv(*, data: bytes, target: PriceTarget, errors: PriceErrors) -> list[RawInterval]:
    """CSV with the header `valid_from,valid_to,value`; one interval a line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.add("document", "is not UTF-8 text")
        return []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if [h.strip() for h in header or []] != CSV_HEADER:
        errors.add("line 1", "the header must be exactly valid_from,valid_to,value")
        return []
    intervals = []
    for row in reader:
        place = f"line {reader.line_num}"
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            errors.add(place, f"has {len(row)} fields, not 3")
            continue
        valid_from = _instant(row[0], f"{place}.valid_from", errors)
        valid_to = _instant(row[1], f"{place}.valid_to", errors)
        value = _decimal(row[2], f"{place}.value", errors)
        if valid_from and valid_to and value is not None:
            intervals.append(RawInterval(place, valid_from, valid_to, value))
    return intervals


PARSERS = {"entsoe": parse_entsoe, "octopus": parse_octopus, "csv": parse_csv}


# --- Validation ------------------------------------------------------------------------------


def _bounds(target: PriceTarget) -> tuple[Decimal, Decimal, str]:
    if target.per_mwh:
        return (
            Decimal(settings.WHOLESALE_MIN_PER_MWH),
            Decimal(settings.WHOLESALE_MAX_PER_MWH),
            f"{target.currency}/MWh",
        )
    return (
        Decimal(settings.PRICES_MIN_PER_KWH),
        Decimal(settings.PRICES_MAX_PER_KWH),
        f"{target.currency}/kWh",
    )


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"


def prices_validate(
    *, intervals: list[RawInterval], target: PriceTarget, errors: PriceErrors
) -> dict[dt.date, list[RawInterval]]:
    """Check the whole series; returns it grouped by local day (only meaningful without errors)."""
    low, high, unit = _bounds(target)
    zone = ZoneInfo(target.timezone)
    on_grid = []
    for item in intervals:
        length = item.valid_to - item.valid_from
        minutes = length.total_seconds() / 60
        if minutes not in (15, 30, 60):
            errors.add(item.position, f"lasts {minutes:g} minutes; intervals are 15, 30 or 60")
        elif (
            item.valid_from.second
            or item.valid_from.microsecond
            or (int(item.valid_from.timestamp()) // 60 % int(minutes))
        ):
            errors.add(
                item.position,
                f"starts at {item.valid_from.isoformat()}, off the {minutes:g}-minute grid",
            )
        else:
            on_grid.append(item)
        if not low <= item.value <= high:
            errors.add(item.position, f"{item.value} {unit} is outside the bounds {low}…{high}")
    ordered = sorted(on_grid, key=lambda i: (i.valid_from, i.valid_to))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.valid_from == before.valid_from:
            errors.add(
                after.position,
                f"duplicate interval starting {after.valid_from.isoformat()} "
                f"(also {before.position})",
            )
        elif after.valid_from < before.valid_to:
            errors.add(after.position, f"overlaps {before.position}")
        elif after.valid_from > before.valid_to:
            errors.add(
                after.position,
                f"gap: nothing from {before.valid_to.isoformat()} to "
                f"{after.valid_from.isoformat()}",
            )
    days: dict[dt.date, list[RawInterval]] = defaultdict(list)
    for item in ordered:
        days[item.valid_from.astimezone(zone).date()].append(item)
    for day, items in sorted(days.items()):
        day_start, day_end = local_day_bounds(day=day, timezone=target.timezone)
        lengths = {i.valid_to - i.valid_from for i in items}
        if len(lengths) > 1:
            errors.add(
                items[0].position,
                f"{day.isoformat()} mixes interval lengths; one resolution per day",
            )
            continue
        step = lengths.pop()
        expected = (day_end - day_start) // step
        if len(items) != expected or items[0].valid_from != day_start:
            errors.add(
                items[0].position,
                f"{day.isoformat()} ({target.timezone}) has {len(items)} intervals of "
                f"{step.total_seconds() / 60:g} minutes; its {_hours(day_end - day_start)}-hour "
                f"day needs {expected} from local midnight",
            )
    return dict(days)


# --- Storing -----------------------------------------------------------------------------------


def price_import_target(
    *, tariff_name: str | None = None, tariff: Tariff | None = None, zone: str | None = None
) -> PriceTarget:
    """Resolve `--tariff NAME` or `--zone CODE`; raises PriceImportInvalid when neither fits."""
    if tariff is None and tariff_name:
        matches = list(Tariff.objects.filter(name=tariff_name)[:2])
        if len(matches) != 1:
            found = "no tariff" if not matches else "several tariffs"
            raise PriceImportInvalid([f"--tariff: {found} named {tariff_name!r}"])
        tariff = matches[0]
    if tariff is not None:
        if tariff.pricing != "published":
            raise PriceImportInvalid(
                [f"--tariff: {tariff.name!r} is not priced by published prices"]
            )
        return PriceTarget(tariff, "", "", tariff.timezone, tariff.currency)
    if zone:
        if zone not in BIDDING_ZONES:
            raise PriceImportInvalid([f"--zone: {zone!r} is not a known bidding zone"])
        known = BIDDING_ZONES[zone]
        return PriceTarget(None, zone, "", known.timezone, known.currency)
    raise PriceImportInvalid(["give a tariff or a bidding zone to import into"])


@transaction.atomic
def _store(
    *, target: PriceTarget, days: dict[dt.date, list[RawInterval]], now: dt.datetime
) -> dict[dt.date, int]:
    versions = {}
    for day, items in sorted(days.items()):
        day_start, day_end = local_day_bounds(day=day, timezone=target.timezone)
        if target.tariff is not None:
            PublishedPrice.objects.filter(
                tariff=target.tariff,
                region=target.region,
                valid_from__gte=day_start,
                valid_from__lt=day_end,
            ).delete()
            PublishedPrice.objects.bulk_create(
                PublishedPrice(
                    tariff=target.tariff,
                    region=target.region,
                    valid_from=i.valid_from,
                    valid_to=i.valid_to,
                    value=i.value,
                    published_at=now,
                )
                for i in items
            )
            publications = PricePublication.objects.filter(
                tariff=target.tariff, region=target.region, day=day
            )
        else:
            WholesalePrice.objects.filter(
                zone=target.zone, valid_from__gte=day_start, valid_from__lt=day_end
            ).delete()
            WholesalePrice.objects.bulk_create(
                WholesalePrice(
                    zone=target.zone,
                    valid_from=i.valid_from,
                    valid_to=i.valid_to,
                    price=i.value,
                    currency=target.currency,
                    published_at=now,
                )
                for i in items
            )
            publications = PricePublication.objects.filter(
                tariff__isnull=True, zone=target.zone, day=day
            )
        publication = publications.select_for_update().first()
        if publication is None:
            publication = PricePublication(
                tariff=target.tariff, region=target.region, zone=target.zone, day=day, version=0
            )
        publication.version += 1
        publication.valid_from, publication.valid_to = day_start, day_end
        publication.intervals = len(items)
        publication.published_at = now
        publication.save()
        versions[day] = publication.version
    return versions


def prices_import(
    *,
    data: bytes,
    file_format: str,
    target: PriceTarget,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> PriceImportResult:
    """Parse and validate `data`, then store every day of it, or raise PriceImportInvalid."""
    if file_format not in PARSERS:
        raise PriceImportInvalid([f"format: {file_format!r} is not one of {', '.join(FORMATS)}"])
    if len(data) > settings.PRICES_IMPORT_MAX_BYTES:
        raise PriceImportInvalid(
            [f"document: {len(data)} bytes is more than {settings.PRICES_IMPORT_MAX_BYTES}"]
        )
    if file_format == "octopus" and target.per_mwh:
        raise PriceImportInvalid(["format: Octopus unit rates belong to a tariff, not a zone"])
    if file_format == "entsoe" and not target.per_mwh:
        raise PriceImportInvalid(["format: ENTSO-E wholesale prices belong to a bidding zone"])
    errors = PriceErrors()
    intervals = PARSERS[file_format](data=data, target=target, errors=errors)
    if len(intervals) > settings.PRICES_IMPORT_MAX_ROWS:
        errors.add(
            "document", f"{len(intervals)} intervals is more than {settings.PRICES_IMPORT_MAX_ROWS}"
        )
        errors.raise_if_any()
    if not intervals and not errors.items:
        errors.add("document", "contains no prices")
    days = prices_validate(intervals=intervals, target=target, errors=errors)
    errors.raise_if_any()
    result = PriceImportResult(
        days=sorted(days), intervals=sum(len(v) for v in days.values()), dry_run=dry_run
    )
    if not dry_run:
        try:
            result.versions = _store(target=target, days=days, now=now or django_timezone.now())
        except IntegrityError as e:
            # Two imports of the same new day at once: the second loses the unique constraint.
            raise PriceImportInvalid(
                [
                    "document: another import stored the same days meanwhile; nothing was "
                    "imported, try again"
                ]
            ) from e
    return result


__all__ = [
    "CSV_HEADER",
    "FORMATS",
    "PriceErrors",
    "PriceTarget",
    "RawInterval",
    "parse_csv",
    "parse_entsoe",
    "parse_octopus",
    "prices_validate",
    "PriceImportInvalid",
    "PriceImportResult",
    "price_import_target",
    "prices_import",
]
