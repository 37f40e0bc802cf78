"""Load a day-ahead or published price file into a tariff or a bidding zone (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.price_import import FORMATS, PriceImportInvalid, price_import_target, prices_import


class Command(BaseCommand):
    help = (
        "Import prices from FILE into a published-prices tariff (--tariff NAME) or a bidding "
        "zone's wholesale series (--zone CODE). Formats: entsoe (ENTSO-E A44 XML, per MWh, "
        "zones), octopus (Octopus unit-rates JSON, pence per kWh, tariffs), csv (header "
        "valid_from,valid_to,value; RFC 3339 times; per kWh for a tariff, per MWh for a zone). "
        "Whole local days only; if anything is wrong nothing is stored and every problem is "
        "listed with its place in the file. Re-importing a day replaces it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="path to the price file")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--tariff", help="name of a tariff priced by published prices")
        target.add_argument("--zone", help="bidding zone code, e.g. DE-LU")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, store nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            if path.stat().st_size > settings.PRICES_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{path} is larger than {settings.PRICES_IMPORT_MAX_BYTES} bytes; refused."
                )
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror or e}") from e
        try:
            target = price_import_target(tariff_name=options["tariff"], zone=options["zone"])
            result = prices_import(
                data=data,
                file_format=options["file_format"],
                target=target,
                dry_run=options["dry_run"],
            )
        except PriceImportInvalid as e:
            for error in e.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(
                f"{len(e.errors)} problem(s) found in {path}; nothing was imported."
            ) from e
        verb = "Checked (dry run, nothing written)" if options["dry_run"] else "Imported"
        days = ", ".join(
            f"{day.isoformat()} (v{result.versions[day]})"
            if day in result.versions
            else day.isoformat()
            for day in result.days
        )
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {path}: {result.intervals} intervals; days {days}.")
        )
