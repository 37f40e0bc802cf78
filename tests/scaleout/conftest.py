"""Two gunicorn instances, one PostgreSQL database, one Redis, one fake FlatPeak.

The instances use a database of their own (`<test database>_scaleout[_<xdist worker>]`),
created and migrated here with manage.py, not pytest-django's test database: they are separate
processes and must see committed data. Everything is driven over HTTP (as a browser behind a
load balancer would) and checked through `seed.py sql`.

Without PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) the tests skip with the reason; with
REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.fakes.flatpeak import RETURN_ORIGIN, FakeFlatPeak, serving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "auth.scaleout.test"
ORIGIN = f"https://{HOST}"
FLATPEAK_RETURN = RETURN_ORIGIN
FAKE_ACCOUNT = ("acc_scaleout", "sk_scaleout_fake_key")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _env_flag("REQUIRE_POSTGRES"):
        pytest.fail(f"REQUIRE_POSTGRES is set but the scale-out test cannot run: {reason}")
    pytest.skip(f"scale-out test needs PostgreSQL and Redis: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- FlatPeak: the project's one served fake ---------------------------------------------------
@pytest.fixture(scope="module")
def fake_flatpeak() -> Iterator[FakeFlatPeak]:
    fake = FakeFlatPeak(
        account_id=FAKE_ACCOUNT[0],
        api_key=FAKE_ACCOUNT[1],
        display_name="Scale-out Devices Ltd",
        auth_uri=f"{ORIGIN}/flatpeak/auth",
        submit_delay=0.2,  # widens the window for concurrent "Allow" taps
    )
    with serving(fake):
        yield fake


# --- The database and Redis -------------------------------------------------------------------
def _postgres_urls() -> tuple[str, str, str]:
    """(admin URL, scale-out database URL, database name) derived from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        _unavailable("DATABASE_URL is not a PostgreSQL URL")
    base = parts.path.lstrip("/") or "provider_auth"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{base}_scaleout" + (f"_{worker}" if worker else "")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    target = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    return admin, target, name


def _recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL unreachable ({type(exc).__name__})")


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        _unavailable("REDIS_URL is not set (the instances must share one Redis)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis unreachable at REDIS_URL ({type(exc).__name__})")
    return url


# --- The cluster ------------------------------------------------------------------------------
@dataclass
class Cluster:
    instances: list[str]
    env: dict[str, str]
    seed: dict[str, Any]
    flatpeak: FakeFlatPeak
    logs: list[Path]

    def manage(self, *args: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, str(ROOT / "tests/scaleout/seed.py"), *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    def sql(self, query: str) -> list[list[Any]]:
        return list(self.manage("sql", query)["rows"])

    def mint_refresh_tokens(self, *, customer: str, count: int) -> list[dict[str, str]]:
        email = self.seed["customers"][customer]["email"]
        return list(self.manage("mint", email, str(count))["tokens"])

    def token_request(self, instance: int, **data: str) -> requests.Response:
        return requests.post(
            f"{self.instances[instance]}/oauth/token",
            data=data,
            auth=(self.seed["client_id"], self.seed["client_secret"]),
            headers={"Host": HOST, "X-Forwarded-Proto": "https"},
            timeout=30,
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log.read_text()[-4000:]}")
        try:
            response = requests.get(f"{url}/readyz", timeout=2)
            if response.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"gunicorn at {url} never became ready:\n{log.read_text()[-4000:]}")


def served_env(
    *, workdir: Path, database_url: str, flatpeak_url: str, **extra: str
) -> dict[str, str]:
    """The environment of a served instance: production settings against a fake FlatPeak."""
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(workdir),
        "DJANGO_SETTINGS_MODULE": "provider_auth.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "PUBLIC_BASE_URL": ORIGIN,
        "DATABASE_URL": database_url,
        "FLATPEAK_API_URL": flatpeak_url,
        "FLATPEAK_ACCOUNT_ID": FAKE_ACCOUNT[0],
        "FLATPEAK_API_KEY": FAKE_ACCOUNT[1],
        "FLATPEAK_REDIRECT_HOSTS": urlsplit(FLATPEAK_RETURN).hostname or "",
        "FLATPEAK_RETRY_DEADLINE": "5",
        "FAST_PASSWORD_HASHER": "true",
        "LOG_FORMAT": "json",
        "GUNICORN_TIMEOUT": "60",
        **extra,
    }


def served_app_prepare(env: dict[str, str]) -> None:
    """Migrate, and collect the static files the production storage's manifest needs."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    # One collectstatic at a time: every served test writes the same folder.
    with open(Path(tempfile.gettempdir()) / "provider-auth-collectstatic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def cluster_extra_env() -> dict[str, str]:
    """More settings for both instances; a test module overrides it (e.g. an identity provider)."""
    return {}


@pytest.fixture(scope="module")
def cluster(
    fake_flatpeak: FakeFlatPeak,
    tmp_path_factory: pytest.TempPathFactory,
    cluster_extra_env: dict[str, str],
) -> Iterator[Cluster]:
    admin_url, database_url, name = _postgres_urls()
    redis_url = _redis_url()
    _recreate_database(admin_url, name)
    workdir = tmp_path_factory.mktemp("scaleout")
    env = served_env(
        workdir=workdir,
        database_url=database_url,
        flatpeak_url=fake_flatpeak.url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"scaleout-{secrets.token_hex(4)}",
        LOGIN_FAILURE_LIMIT="5",
        GUNICORN_WORKERS="2",
        **cluster_extra_env,
    )
    served_app_prepare(env)
    seed_out = subprocess.run(
        [sys.executable, str(ROOT / "tests/scaleout/seed.py"), "seed"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    seed = json.loads(seed_out.strip().splitlines()[-1])

    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    logs: list[Path] = []
    try:
        for index in range(2):
            port = free_port()
            log = workdir / f"instance-{index}.log"
            instance_env = {
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"metrics-{index}"),
            }
            with open(log, "wb") as out:
                processes.append(
                    subprocess.Popen(
                        [
                            str(BIN / "gunicorn"),
                            "-c",
                            "deploy/gunicorn.conf.py",
                            "provider_auth.wsgi",
                        ],
                        env=instance_env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for url, process, log in zip(urls, processes, logs, strict=True):
            _wait_ready(url, process, log)
        yield Cluster(instances=urls, env=env, seed=seed, flatpeak=fake_flatpeak, logs=logs)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        _drop_database(admin_url, name)


# --- A browser that hops between instances ----------------------------------------------------
class Browser:
    """Cookies kept by hand: they are Secure (__Host-) and we speak plain HTTP to gunicorn,
    as a TLS-terminating load balancer would; each request may go to either instance."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.cookies: dict[str, str] = {}

    def _headers(self) -> dict[str, str]:
        return {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Origin": ORIGIN,
            "Referer": f"{ORIGIN}/",
        }

    def _remember(self, response: requests.Response) -> requests.Response:
        for cookie in response.cookies:
            if cookie.value:
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        return response

    def get(self, instance: int, path: str) -> requests.Response:
        return self._remember(
            requests.get(
                self.cluster.instances[instance] + path,
                headers=self._headers(),
                cookies=self.cookies,
                allow_redirects=False,
                timeout=30,
            )
        )

    def post(self, instance: int, path: str, data: dict[str, str]) -> requests.Response:
        csrf = next((v for k, v in self.cookies.items() if k.endswith("csrftoken")), "")
        return self._remember(
            requests.post(
                self.cluster.instances[instance] + path,
                data={"csrfmiddlewaretoken": csrf, **data},
                headers=self._headers(),
                cookies=self.cookies,
                allow_redirects=False,
                timeout=60,
            )
        )


def local_path(location: str) -> str:
    """A Location header as a path on our host (refuses anything pointing elsewhere)."""
    parts = urlsplit(location)
    assert parts.netloc in ("", HOST), f"unexpected redirect to {location}"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def new_connect_token() -> str:
    return "cot_" + secrets.token_hex(12)


@pytest.fixture(autouse=True)
def _instance_logs_on_failure(cluster: Cluster) -> Iterator[None]:
    """Print what both instances logged during the test (pytest shows it only on failure)."""
    offsets = [log.stat().st_size for log in cluster.logs]
    yield
    for index, (log, offset) in enumerate(zip(cluster.logs, offsets, strict=True)):
        with open(log, "rb") as handle:
            handle.seek(offset)
            print(
                f"--- instance {index} log ---\n" + handle.read()[-6000:].decode(errors="replace")
            )
