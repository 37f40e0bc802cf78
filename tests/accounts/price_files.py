"""Builders of price files for tests: whole local days in any zone, at any resolution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

SAMPLES = Path(__file__).resolve().parents[2] / "accounts" / "samples"
ENTSOE_SAMPLE = SAMPLES / "entsoe-a44-de-lu-2026-01-15.xml"
OCTOPUS_SAMPLE = SAMPLES / "octopus-agile-2026-01-15.json"

UTC = dt.UTC


def day_bounds(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(UTC)
    return start, end


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_rows(
    day: dt.date,
    timezone: str,
    minutes: int,
    *,
    price=lambda i: Decimal("0.10") + Decimal(i % 10) / 100,
) -> list[tuple[dt.datetime, dt.datetime, Decimal]]:
    start, end = day_bounds(day, timezone)
    step = dt.timedelta(minutes=minutes)
    rows = []
    i = 0
    while start + step * i < end:
        rows.append((start + step * i, start + step * (i + 1), Decimal(price(i))))
        i += 1
    return rows


def csv_of(rows) -> bytes:
    lines = ["valid_from,valid_to,value"]
    lines += [f"{rfc3339(a)},{rfc3339(b)},{v}" for a, b, v in rows]
    return ("\n".join(lines) + "\n").encode()


def entsoe_of(
    *,
    start: dt.datetime,
    end: dt.datetime,
    resolution: str,
    points: list[tuple[int, str]],
    curve: str = "A01",
    eic: str = "10Y1001A1001A82H",
    currency: str = "EUR",
) -> bytes:
    def stamp(value: dt.datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")

    body = "".join(
        f"<Point><position>{p}</position><price.amount>{v}</price.amount></Point>"
        for p, v in points
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:0">
<mRID>test</mRID><revisionNumber>1</revisionNumber><type>A44</type>
<TimeSeries><mRID>1</mRID><businessType>A62</businessType>
<in_Domain.mRID codingScheme="A01">{eic}</in_Domain.mRID>
<out_Domain.mRID codingScheme="A01">{eic}</out_Domain.mRID>
<currency_Unit.name>{currency}</currency_Unit.name>
<price_Measure_Unit.name>MWH</price_Measure_Unit.name><curveType>{curve}</curveType>
<Period><timeInterval><start>{stamp(start)}</start><end>{stamp(end)}</end></timeInterval>
<resolution>{resolution}</resolution>{body}</Period></TimeSeries>
</Publication_MarketDocument>""".encode()
