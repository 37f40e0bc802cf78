"""`manage.py sandbox_setup`: make the demo's FlatPeak side complete (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.services import sandbox_oauth_client_ensure


class Command(BaseCommand):
    help = (
        "Create or update FlatPeak's OAuth client (FLATPEAK_OAUTH_CLIENT_ID) with the secret the "
        "sandbox refreshes tokens with (SANDBOX_OAUTH_CLIENT_SECRET). Safe to run repeatedly."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("SANDBOX_ENABLED is off: there is no sandbox to set up.")
        secret = settings.SANDBOX_OAUTH_CLIENT_SECRET
        if len(secret) < 16:
            raise CommandError(
                "Set SANDBOX_OAUTH_CLIENT_SECRET (16+ characters): the sandbox needs the FlatPeak "
                "OAuth client's secret to refresh the tokens it receives."
            )
        missing = [
            name
            for name in ("FLATPEAK_ACCOUNT_ID", "FLATPEAK_API_KEY")
            if not getattr(settings, name)
        ]
        if missing:
            raise CommandError(
                f"Set {' and '.join(missing)}: the sandbox's FlatPeak API checks them (HTTP Basic)."
            )
        client_id = settings.FLATPEAK_OAUTH_CLIENT_ID
        changed = sandbox_oauth_client_ensure(client_id=client_id, secret=secret)
        state = "created or updated" if changed else "already up to date"
        self.stdout.write(f"FlatPeak OAuth client {client_id!r}: {state}.")
        sandbox_api = settings.FLATPEAK_API_URL
        if "/sandbox/api" not in sandbox_api:
            self.stdout.write(
                self.style.WARNING(
                    f"FLATPEAK_API_URL is {sandbox_api}: our server will not talk to this sandbox "
                    "(expected …/sandbox/api)."
                )
            )
