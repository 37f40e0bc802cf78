"""`manage.py cleanup`: every periodic clean-up in one command, for cron or a systemd timer.

    */15 * * * *  cd /srv/provider-auth && .venv/bin/python manage.py cleanup

Runs each job independently (one failing does not stop the others), prints what each removed,
and exits non-zero if any job failed or is missing, so the scheduler's alerting notices.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
from collections.abc import Callable
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def _service(dotted: str) -> Callable[..., Any]:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _command(name: str) -> Callable[..., str]:
    def run(*, now: dt.datetime) -> str:
        if name not in get_commands():
            raise CommandError(f"management command {name!r} is not installed")
        out = io.StringIO()
        call_command(name, stdout=out)
        return out.getvalue().strip() or "done"

    return run


# (label, callable taking now=...). Services return a count; commands return their output.
JOBS: list[tuple[str, Callable[..., Any]]] = [
    (
        "pending grants FlatPeak never acknowledged",
        lambda *, now: _service("provider_auth.connect.services.connect_pending_grants_expire")(
            now=now
        ),
    ),
    (
        "grants whose end has passed (consent expired, supply ended)",
        lambda *, now: "{} ended".format(
            _service("provider_auth.consent.services.grants_end_due")(now=now)
        ),
    ),
    (
        "idle connect sessions",
        lambda *, now: _service("provider_auth.connect.services.connect_sessions_expire")(now=now),
    ),
    (
        "expired unauthenticated OAuth flow sessions",
        lambda *, now: _service(
            "provider_auth.connect.retention.connect_sessions_unauthenticated_purge"
        )(now=now),
    ),
    ("expired and revoked OAuth tokens (cleartokens)", _command("cleartokens")),
    ("expired browser sessions (clearsessions)", _command("clearsessions")),
    (
        "federated-login session records past their lifetime",
        lambda *, now: _service("provider_auth.oidc.services.oidc_browser_sessions_purge")(now=now),
    ),
    (
        "audit events past AUDIT_RETENTION_DAYS",
        lambda *, now: _service("provider_auth.audit.services.audit_purge_expired")(now=now),
    ),
]


class Command(BaseCommand):
    help = (
        "Expire unacknowledged grants and idle connect sessions, end grants whose end has passed, delete expired flows nobody "
        "authenticated, clear expired tokens and browser sessions, purge audit events past "
        "retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            help="Run only jobs whose label contains this text (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failures: list[str] = []
        for label, job in JOBS:
            if options["only"] and not any(o.lower() in label.lower() for o in options["only"]):
                continue
            try:
                result = job(now=now)
            except (ImportError, AttributeError) as exc:
                failures.append(label)
                self.stderr.write(f"{label}: not available ({exc})")
                continue
            except Exception as exc:  # noqa: BLE001 - report, run the rest, fail at the end
                failures.append(label)
                self.stderr.write(f"{label}: failed: {type(exc).__name__}: {exc}")
                continue
            if isinstance(result, int):
                self.stdout.write(f"{label}: {result} removed")
            else:
                self.stdout.write(f"{label}: {result}")
        if failures:
            raise CommandError("cleanup incomplete: " + "; ".join(failures))
