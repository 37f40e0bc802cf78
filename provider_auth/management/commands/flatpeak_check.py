"""`manage.py flatpeak_check`: the `flatpeak_check` package's conformance check, run from a
checkout of the server (same options, same output, same exit codes as before it was a package).

The check itself needs no Django: FlatPeak's onboarding team runs it as `flatpeak-check` from
any machine. This wrapper only adapts its errors to `CommandError` and its colours to Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flatpeak_check import cli
from flatpeak_check.report import Report, Style


class Command(BaseCommand):
    help = cli.DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        report = Report(
            write=self.stdout.write,
            style=Style(success=self.style.SUCCESS, error=self.style.ERROR),
        )
        try:
            cli.run(
                base_url=options["base_url"],
                sandbox_url=options["sandbox_url"],
                email=options["email"],
                password=options["password"],
                persona=options["persona"],
                direction=options["direction"],
                timeout=options["timeout"],
                report=report,
            )
        except (cli.UsageError, cli.ConformanceFailed) as e:
            raise CommandError(str(e)) from e
