"""The served fake FlatPeak behaves like FlatPeak's connect API where our server can tell."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fakes.flatpeak import RETURN_ORIGIN, FakeFlatPeak, serving

TOKEN = "cot_" + "ab" * 12
ACCOUNT = ("acc_test", "sk_test_key")


def test_it_answers_the_context_and_records_each_decision() -> None:
    fake = FakeFlatPeak(account_id=ACCOUNT[0], api_key=ACCOUNT[1], auth_uri="https://us/auth")
    with serving(fake), requests.Session() as http:
        http.auth = ACCOUNT
        context = http.get(f"{fake.url}/connect/session/{TOKEN}", timeout=5)
        answer = http.post(
            f"{fake.url}/connect/session/{TOKEN}",
            json={"status": "AUTHORISED"},
            headers={"Idempotency-Key": "k1"},
            timeout=5,
        )
    assert context.status_code == 200
    assert context.json()["redirect_uri"] == "https://us/auth"
    assert context.json()["connect_web_uri"].startswith(RETURN_ORIGIN)
    assert answer.json() == {"redirect_uri": f"{RETURN_ORIGIN}/done?fp_cot={TOKEN}"}
    assert fake.submissions_for(TOKEN) == [
        {"body": {"status": "AUTHORISED"}, "idempotency_key": "k1"}
    ]


def test_wrong_credentials_or_paths_are_refused_and_the_connection_stays_usable() -> None:
    fake = FakeFlatPeak(account_id=ACCOUNT[0], api_key=ACCOUNT[1])
    with serving(fake), requests.Session() as http:
        refused = http.post(
            f"{fake.url}/connect/session/{TOKEN}", json={"x": "y" * 500}, auth=("acc", "no")
        )
        unknown = http.get(f"{fake.url}/connect/session/nope", auth=ACCOUNT)
        # The same kept-alive connection, after a refused POST whose body was not wanted.
        accepted = http.post(f"{fake.url}/connect/session/{TOKEN}", json={}, auth=ACCOUNT)
    assert (refused.status_code, unknown.status_code, accepted.status_code) == (401, 404, 200)
    assert len(fake.submissions_for(TOKEN)) == 1


def test_it_runs_as_a_script_for_the_benchmarks() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).with_name("flatpeak.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(port), "--account-id=acc_b", "--api-key=sk_b"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/connect/session/{TOKEN}",
                    auth=("acc_b", "sk_b"),
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer.status_code == 200
        assert answer.json()["direction"] == "IMPORT"
    finally:
        process.terminate()
        process.wait(timeout=10)
