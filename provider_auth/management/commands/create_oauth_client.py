"""`manage.py create_oauth_client`: register a confidential OAuth client, print its secret once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from provider_auth.oauth.services import client_create


class Command(BaseCommand):
    help = (
        "Register an OAuth client (FlatPeak is the one named by FLATPEAK_OAUTH_CLIENT_ID). "
        "Prints the client secret once; only its SHA-256 digest is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Display name, e.g. FlatPeak.")
        parser.add_argument(
            "--client-id",
            help=f"Defaults to a random id; FlatPeak's is {settings.FLATPEAK_OAUTH_CLIENT_ID!r}.",
        )
        parser.add_argument(
            "--client-secret",
            help="Use this secret (>= 32 characters) instead of generating one.",
        )
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            dest="redirect_uris",
            help="Exact redirect URI (repeatable); needed for the authorization_code grant.",
        )
        parser.add_argument(
            "--grant-type",
            action="append",
            default=[],
            dest="grant_types",
            choices=["authorization_code", "refresh_token"],
            help="Allowed grant type (repeatable); default both.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grant_types = options["grant_types"] or None
        if grant_types is None and not options["redirect_uris"]:
            # Without a redirect URI the client can only refresh tokens issued by the connect
            # flow (FlatPeak's usual case).
            grant_types = ["refresh_token"]
        try:
            client, secret = client_create(
                name=options["name"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                redirect_uris=options["redirect_uris"],
                grant_types=grant_types,
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"client_id:     {client.client_id}")
        if options["client_secret"]:
            self.stdout.write("client_secret: (the one you supplied)")
        else:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write(
                self.style.WARNING(
                    "Store the secret now: it is not shown again and cannot be recovered."
                )
            )
        self.stdout.write(f"grant_types:   {' '.join(client.grant_types)}")
        if client.redirect_uris:
            self.stdout.write(f"redirect_uris: {' '.join(client.redirect_uris)}")
