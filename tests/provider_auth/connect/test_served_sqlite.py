"""The embedded default under concurrency: SQLite served by gunicorn (several worker processes,
several threads each), FlatPeak a loopback fake.

SQLite is the README's default; concurrent taps and refreshes must neither fail with
"database is locked" nor submit one decision twice. Runs in CI's SQLite pass.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import pytest

from tests.fakes.flatpeak import FakeFlatPeak, serving
from tests.scaleout.conftest import (
    BIN,
    FAKE_ACCOUNT,
    ORIGIN,
    ROOT,
    Browser,
    Cluster,
    _wait_ready,
    free_port,
    local_path,
    new_connect_token,
    served_app_prepare,
    served_env,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flatpeak() -> Iterator[FakeFlatPeak]:
    fake = FakeFlatPeak(
        account_id=FAKE_ACCOUNT[0],
        api_key=FAKE_ACCOUNT[1],
        auth_uri=f"{ORIGIN}/flatpeak/auth",
        submit_delay=0.3,  # keeps the first submission in flight for the others
    )
    with serving(fake):
        yield fake


@pytest.fixture(scope="module")
def served(flatpeak: FakeFlatPeak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One gunicorn instance, 3 workers × 4 threads, on a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("served-sqlite")
    env = served_env(
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'db.sqlite3'}",
        flatpeak_url=flatpeak.url,
    )
    served_app_prepare(env)
    seed = Cluster(instances=[], env=env, seed={}, flatpeak=flatpeak, logs=[]).manage("seed")
    port = free_port()
    log = workdir / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "deploy/gunicorn.conf.py",
                "--workers",
                "3",
                "--threads",
                "4",
                "provider_auth.wsgi",
            ],
            env={
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            },
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield Cluster(instances=[url], env=env, seed=seed, flatpeak=flatpeak, logs=[log])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if os.environ.get("CI") or process.returncode not in (0, -15):
            print(log.read_text()[-6000:])


def _server_errors(served: Cluster) -> list[str]:
    return [
        line for line in served.logs[0].read_text().splitlines() if "database is locked" in line
    ]


def test_the_served_database_runs_in_wal_mode(served: Cluster) -> None:
    [[mode]] = served.sql("PRAGMA journal_mode")
    assert mode == "wal"


def test_ten_concurrent_allows_submit_once_without_errors(served: Cluster) -> None:
    browser = Browser(served)
    token = new_connect_token()
    entry = browser.get(0, f"/flatpeak/auth?connect_token={token}")
    assert entry.status_code == HTTPStatus.SEE_OTHER, entry.text[:500]
    step = local_path(entry.headers["Location"])
    assert browser.get(0, step).status_code == HTTPStatus.OK
    login = browser.post(
        0,
        step + "login",
        {
            "action": "login",
            "username": served.seed["customers"]["parallel"]["email"],
            "password": served.seed["password"],
        },
    )
    assert login.status_code == HTTPStatus.SEE_OTHER, login.text[:500]
    consent = browser.get(0, step)
    assert 'value="allow"' in consent.text, consent.text[:2000]
    barrier = threading.Barrier(10)

    def allow(_: int) -> Any:
        barrier.wait()
        return browser.post(0, step + "decide", {"decision": "allow"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(allow, range(10)))

    statuses = [r.status_code for r in answers]
    assert all(status < 500 for status in statuses), statuses
    assert len(served.flatpeak.submissions_for(token)) == 1
    customer_id = int(served.seed["customers"]["parallel"]["id"])
    [[grants]] = served.sql(f"SELECT count(*) FROM oauth_grant WHERE customer_id = {customer_id}")  # noqa: S608
    assert grants == 1
    hint = f"cot_…{token[-3:]}"
    query = (
        f"SELECT state, submission_attempts FROM connect_connectsession WHERE token_hint = '{hint}'"  # noqa: S608,E501
    )
    [[state, attempts]] = served.sql(query)
    assert (state, attempts) == ("COMPLETED", 1)
    assert not _server_errors(served)


def test_twenty_concurrent_refreshes_of_one_token_never_fail(served: Cluster) -> None:
    [pair] = served.mint_refresh_tokens(customer="refresh", count=1)
    barrier = threading.Barrier(20)

    def refresh(_: int) -> int:
        barrier.wait()
        return served.token_request(
            0, grant_type="refresh_token", refresh_token=pair["refresh_token"]
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(refresh, range(20)))

    assert all(status < 500 for status in statuses), statuses
    assert HTTPStatus.OK in statuses
    assert not _server_errors(served)
