"""`manage.py cleartokens`: delete expired and long-revoked tokens and codes (cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from provider_auth.oauth.services import tokens_clear


class Command(BaseCommand):
    help = (
        "Delete expired access tokens, expired / long-rotated / long-revoked refresh tokens and "
        "expired authorization codes; print how many of each."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = tokens_clear()
        self.stdout.write(", ".join(f"{kind}: {n}" for kind, n in counts.items()))
