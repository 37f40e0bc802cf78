"""A gunicorn worker is warm before its first request: what Django builds lazily on first use is
built in the master before the fork (and in the worker without preload), and the worker opens
its connections before it accepts a request — never inside a request."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from provider_auth.ops import warmup

ROOT = Path(__file__).resolve().parents[3]

# A process like a preloading gunicorn master: the WSGI app imported, then the config's pre_fork.
_MASTER = """
import gc, json, runpy, sys
from provider_auth.wsgi import application
before = {"urls": "provider_auth.urls" in sys.modules}
conf = runpy.run_path("deploy/gunicorn.conf.py")
conf["pre_fork"](None, None)
from django.db import connections
print(json.dumps({
    "before": before,
    "urls": "provider_auth.urls" in sys.modules,
    "tariff_views": "provider_auth.tariff_api.views" in sys.modules,
    "frozen": gc.get_freeze_count(),
    "open_connections": [c.alias for c in connections.all() if c.connection is not None],
    "post_worker_init": callable(conf.get("post_worker_init")),
}))
"""


def test_pre_fork_builds_the_url_resolver_and_views_in_the_master(tmp_path: Path) -> None:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "provider_auth.settings",
        "DEBUG": "false",
        "SECRET_KEY": "warm-" + "k" * 50,
        "ALLOWED_HOSTS": "auth.example",
        "PUBLIC_BASE_URL": "https://auth.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    out = subprocess.run(
        [sys.executable, "-c", _MASTER],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    state = json.loads(out.strip().splitlines()[-1])
    # Importing the WSGI app alone leaves the URL configuration for the first request...
    assert state["before"] == {"urls": False}
    # ...the config's pre_fork builds it (and the views it names) before any worker exists,
    assert state["urls"] and state["tariff_views"]
    # freezes it with the rest of the master's heap and hands no connection to a worker,
    assert state["frozen"] > 0
    assert state["open_connections"] == []
    # and each worker warms its own connections before it accepts a request.
    assert state["post_worker_init"]


def test_process_warm_is_done_once() -> None:
    assert warmup.process_warm() is True
    assert warmup.process_warm() is True


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
)
def test_an_unreachable_redis_does_not_stop_a_worker_from_starting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="provider_auth.ops.warmup"):
        warmup.connections_warm()
    assert "Redis unreachable" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_opens_its_database_connection_before_its_first_request() -> None:
    from django.db import connection

    connection.close()
    assert connection.connection is None
    if connection.settings_dict.get("CONN_MAX_AGE") == 0:
        pytest.skip("no persistent connections configured")
    warmup.connections_warm()
    assert connection.connection is not None
