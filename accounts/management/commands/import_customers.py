"""Load a provider's customers, premises, tariffs and contracts from a JSON file (all or nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.importing import ImportInvalid, customers_import


class Command(BaseCommand):
    help = (
        "Import customers from FILE.json (format: README, 'Importing customers'). Everything is "
        "validated first; if any record is invalid nothing is imported and every problem is "
        "listed with its record index and field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="path to the JSON file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and count, then roll everything back",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror or e}") from e
        except UnicodeDecodeError as e:
            raise CommandError(f"{path} is not UTF-8 text") from e
        except json.JSONDecodeError as e:
            raise CommandError(
                f"{path} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
            ) from e
        try:
            result = customers_import(data=data, dry_run=options["dry_run"])
        except ImportInvalid as e:
            for error in e.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(
                f"{len(e.errors)} problem(s) found in {path}; nothing was imported."
            ) from e
        verb = "Checked (dry run, nothing written)" if options["dry_run"] else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {path}: customers {result.customers_created} created, "
                f"{result.customers_updated} updated; premises {result.premises_created} "
                f"created, {result.premises_updated} updated; {result.tariffs_saved} tariffs; "
                f"{result.contracts_created} contracts."
            )
        )
