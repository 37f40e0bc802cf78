"""The peer's CPU time per request, in-process (see benchmarks/service_time.py).

    python service_time.py PEER.json     (mints its own refresh tokens)
"""

import base64
import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_project.settings")
import django

django.setup()

from django.test import Client


def cpu_ms(call, calls=100, repeats=3):
    call()
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(calls):
            call()
        samples.append((time.process_time() - started) * 1000 / calls)
    return round(statistics.median(samples), 3)


def checked(status, call):
    def run():
        response = call()
        assert response.status_code == status, (status, response.status_code)
        return response

    return run


if __name__ == "__main__":
    peer = json.load(open(sys.argv[1]))
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    from seed import mint

    user = User.objects.get(username="bench")
    plain_tokens = iter(mint(user, Application.objects.get(client_id=peer["plain"]["client_id"]), 400))
    hashed_tokens = iter(mint(user, Application.objects.get(client_id=peer["hashed"]["client_id"]), 20))
    client = Client()

    def basic(app):
        return "Basic " + base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()

    def refresh(tokens, app):
        return lambda: client.post(
            "/o/token/",
            {"grant_type": "refresh_token", "refresh_token": next(tokens)},
            HTTP_AUTHORIZATION=basic(app),
        )

    print(
        json.dumps(
            {
                "peer_protected_resource": cpu_ms(
                    checked(200, lambda: client.get(
                        "/api/resource", HTTP_AUTHORIZATION=f"Bearer {peer['access_token']}"
                    ))
                ),
                "peer_refresh_secret_hash_off": cpu_ms(
                    checked(200, refresh(plain_tokens, peer["plain"]))
                ),
                "peer_refresh_secret_hashed_default": cpu_ms(
                    checked(200, refresh(hashed_tokens, peer["hashed"])), calls=5, repeats=3
                ),
            }
        )
    )
