"""Seed the peer: a user, two confidential applications (client secret hashed with Django's
password hasher — the toolkit's default — and not hashed), one access token for the protected
resource and fresh refresh tokens for each application.

    python seed.py OUT.json N_HASHED N_PLAIN
"""

import datetime as dt
import hashlib
import json
import os
import secrets
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_project.settings")
import django

django.setup()

from django.contrib.auth.models import User
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken


def app(name, hashed):
    secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name=name,
        client_id=secrets.token_urlsafe(16),
        client_secret=secret,
        hash_client_secret=hashed,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://connect.flatpeak.example/oauth/callback",
        user=None,
    )
    return application, secret


def mint(user, application, count):
    expires = timezone.now() + dt.timedelta(hours=1)
    values = [secrets.token_urlsafe(30) for _ in range(count)]
    access = AccessToken.objects.bulk_create(
        [
            AccessToken(
                user=user,
                application=application,
                token=value,
                token_checksum=hashlib.sha256(value.encode()).hexdigest(),
                expires=expires,
                scope="read",
            )
            for value in (secrets.token_urlsafe(30) for _ in range(count))
        ],
        batch_size=1000,
    )
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(user=user, application=application, token=value, access_token=token)
            for value, token in zip(values, access)
        ],
        batch_size=1000,
    )
    return values


if __name__ == "__main__":
    out, n_hashed, n_plain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    user = User.objects.create_user(username="bench", password="correct-horse-battery-staple")
    hashed, hashed_secret = app("hashed secret (default)", True)
    plain, plain_secret = app("plain secret", False)
    value = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        user=user,
        application=plain,
        token=value,
        expires=timezone.now() + dt.timedelta(days=1),
        scope="read",
    )
    directory = os.path.dirname(os.path.abspath(out))
    with open(os.path.join(directory, "peer-refresh-hashed.txt"), "w") as f:
        f.write("\n".join(mint(user, hashed, n_hashed)) + "\n")
    with open(os.path.join(directory, "peer-refresh-plain.txt"), "w") as f:
        f.write("\n".join(mint(user, plain, n_plain)) + "\n")
    with open(out, "w") as f:
        json.dump(
            {
                "access_token": value,
                "hashed": {"client_id": hashed.client_id, "client_secret": hashed_secret},
                "plain": {"client_id": plain.client_id, "client_secret": plain_secret},
            },
            f,
        )
