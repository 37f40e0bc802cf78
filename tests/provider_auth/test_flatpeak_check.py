"""`manage.py flatpeak_check` against a live demo server (a real `runserver` process).

The server runs as the demo does — SQLite files, the sandbox with its own database, threaded
runserver — so the check's HTTP, the connect flow's calls to the sandbox and the sandbox's polls
of our API all cross real sockets on loopback. Setting up the database once (migrate, seed_demo,
sandbox_setup) and copying it per server keeps this to seconds per run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
import requests
import responses
from django.core.management import CommandError, call_command

from flatpeak_check import cli
from flatpeak_check.browser import Browser
from flatpeak_check.checks import NOT_A_REDIRECT_TARGET, Checker
from flatpeak_check.pages import PageParser
from flatpeak_check.results import Result

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(*, port: int, work: Path, **overrides: str) -> dict[str, str]:
    """The Makefile's DEMO_ENV for this port, with throw-away databases."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        DEBUG="true",
        SANDBOX_ENABLED="true",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        FLATPEAK_API_URL=f"http://127.0.0.1:{port}/sandbox/api",
        FLATPEAK_ACCOUNT_ID="acc_demo",
        FLATPEAK_API_KEY="sk_demo_sandbox_key",
        FLATPEAK_REDIRECT_HOSTS=f"127.0.0.1:{port},localhost:{port}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SANDBOX_OAUTH_CLIENT_SECRET="cs_demo_sandbox_client_secret",
        DATABASE_URL=f"sqlite:///{work / 'demo.sqlite3'}",
        LOG_FORMAT="console",
        LOG_LEVEL="WARNING",
        FAST_PASSWORD_HASHER="true",
        # Keep the FlatPeak client's retries short so fault checks stay quick.
        FLATPEAK_READ_TIMEOUT="3",
        FLATPEAK_RETRY_DEADLINE="4",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


@pytest.fixture(scope="module")
def prepared_databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """migrate, seed_demo and sandbox_setup, once for the module."""
    work = tmp_path_factory.mktemp("demo-template")
    env = demo_env(port=8000, work=work)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "sandbox_setup")
    return work


@pytest.fixture
def start_demo_server(prepared_databases: Path, tmp_path: Path) -> Iterator[Callable[..., str]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(**overrides: str) -> str:
        port = free_port()
        work = tmp_path / f"server-{port}"
        shutil.copytree(prepared_databases, work)
        log = (work / "server.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=demo_env(port=port, work=work, **overrides),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("the demo server exited: " + (work / "server.log").read_text())
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except requests.ConnectionError:
                time.sleep(0.2)
        pytest.fail("the demo server did not become ready in 30 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def run_check(base: str, *, password: str = "alice-demo-pass") -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command(
            "flatpeak_check",
            "--base-url",
            base,
            "--email",
            "alice@example.com",
            "--password",
            password,
            "--timeout",
            "20",
            stdout=out,
            no_color=True,
        )
    except CommandError as e:
        return out.getvalue(), e
    return out.getvalue(), None


def lines(output: str, prefix: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(prefix)]


def test_every_check_passes_against_a_correctly_configured_demo_server(
    start_demo_server: Callable[..., str],
) -> None:
    output, error = run_check(start_demo_server())
    assert error is None, output
    assert lines(output, "FAIL") == []
    passed = lines(output, "PASS")
    assert len(passed) >= 20
    # At least one line per area of the check (1 metadata … 6 FlatPeak faults).
    for ident in (
        "1.1",
        "1.2",
        "2.4",
        "2.5",
        "3.4",
        "3.6",
        "4.1",
        "4.2",
        "4.3",
        "5.3",
        "5.4",
        "6.1",
        "6.2",
    ):
        assert any(line.startswith(f"PASS {ident} ") for line in passed), ident
    assert f"{len(passed)} checks: {len(passed)} passed, 0 failed" in output


def test_the_console_script_passes_every_check_against_a_demo_server_without_django(
    start_demo_server: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`flatpeak-check` as FlatPeak's onboarding team runs it: the same lines as the command."""
    base = start_demo_server()
    argv = ["--base-url", base, "--email", "alice@example.com", "--password", "alice-demo-pass"]
    code = cli.main([*argv, "--timeout", "20"])
    output, errors = capsys.readouterr()
    assert code == 0, output + errors
    assert output.startswith(f"flatpeak_check against {base} as alice@example.com\n")
    assert lines(output, "FAIL") == []
    passed = lines(output, "PASS")
    assert len(passed) >= 20
    assert any(
        line.startswith("PASS 2.5 the submission carries the contract's fields") for line in passed
    )
    assert output.endswith(f"{len(passed)} checks: {len(passed)} passed, 0 failed\n")
    assert errors == ""


def test_a_redirect_host_missing_from_the_allowlist_fails_the_allow_check_readably(
    start_demo_server: Callable[..., str],
) -> None:
    base = start_demo_server(FLATPEAK_REDIRECT_HOSTS="connect.flatpeak.com")
    output, error = run_check(base)
    assert error is not None
    assert "2.4 Allow" in str(error)
    failure = next(line for line in output.splitlines() if line.startswith("FAIL 2.4"))
    assert "expected a 303 back to FlatPeak" in failure
    assert "FLATPEAK_REDIRECT_HOSTS" in failure
    # Checks that do not depend on the redirect still pass: the failure is pinpointed.
    assert lines(output, "PASS 1.1") and lines(output, "PASS 2.3")
    assert "passed" in output and "failed" in output


def test_a_wrong_test_customer_password_says_so(start_demo_server: Callable[..., str]) -> None:
    output, error = run_check(start_demo_server(), password="not-alices-password")
    assert error is not None
    failure = next(line for line in output.splitlines() if line.startswith("FAIL 2.3"))
    assert "login as alice@example.com failed" in failure


def test_a_deployment_without_the_sandbox_is_reported_not_crashed(
    start_demo_server: Callable[..., str],
) -> None:
    output, error = run_check(start_demo_server(SANDBOX_ENABLED="false"))
    assert error is not None
    assert "enable it on this (staging) deployment" in output


def test_an_unreachable_base_url_is_a_clear_error() -> None:
    output, error = run_check(f"http://127.0.0.1:{free_port()}")
    assert error is not None
    assert "FAIL 1.1" in output


def test_the_base_url_must_be_absolute() -> None:
    with pytest.raises(CommandError, match="absolute http"):
        call_command(
            "flatpeak_check", "--base-url", "example.org", "--email", "e", "--password", "p"
        )


def test_the_page_parser_reads_forms_buttons_and_links_like_a_browser() -> None:
    parser = PageParser()
    parser.feed(
        """<title>Consent</title><form method="post" action="/decide">
        <input type="hidden" name="csrfmiddlewaretoken" value="t0k">
        <input type="radio" name="premise" value="1"><input type="radio" name="premise" value="2"
        checked><select name="fault"><option value="">None</option><option value="x" selected>X
        </option></select><button type="submit" name="decision" value="allow"><span>Allow</span>
        </button></form><a href="/retry">Try <b>again</b></a><script>var no = "text";</script>"""
    )
    form = parser.forms[0]
    assert (form.method, form.action) == ("post", "/decide")
    assert [c.value for c in form.controls if c.name == "fault"] == ["x"]
    assert [c.value for c in form.radios() if c.checked] == ["2"]
    assert [" ".join(b.text.split()) for b in form.buttons()] == ["Allow"]
    assert " ".join(parser.links[0].text.split()) == "Try again"
    assert parser.title == "Consent"
    assert "no =" not in " ".join(parser.text_parts)


def test_a_submission_timeout_is_retried_and_flatpeak_still_gets_one_payload(
    start_demo_server: Callable[..., str],
) -> None:
    """The sandbox records the payload, then answers after the client's read timeout (3 s in
    this server): our server must offer "Try again" and resend the identical submission."""
    base = start_demo_server()
    results: list[Result] = []
    checker = Checker(
        base_url=base,
        sandbox_url=base,
        email="alice@example.com",
        password="alice-demo-pass",
        persona="voltcar",
        direction="IMPORT",
        timeout=20,
        write=results.append,
    )
    flow = checker.flow_start(fault_submission="timeout", fault_repeats=1)
    page = checker.login(flow, flow.browser.get(flow.auth_url))
    flow.page = checker.click(flow, checker.to_consent(flow, page), "Allow")
    flow.page = checker.retry_until_redirect(flow, flow.page)
    checker.expect_return_to_app(flow, "Allow after a timeout")
    summary = checker.sandbox_json(flow.token)
    assert summary["status"] == "AUTHORISED"
    assert summary["payloads_received"] == 1
    assert len(summary["submission_keys"]) == 1 and len(summary["submission_bodies"]) == 1
    outcomes = [r["outcome"] for r in summary["requests"] if r["kind"] == "submission"]
    assert outcomes[0] == "accepted_timeout" and outcomes[-1] == "replayed"


@responses.activate
def test_the_checks_browser_never_follows_a_redirect_off_the_deployment() -> None:
    responses.get("http://deploy.test/start", status=303, headers={"Location": "/next"})
    responses.get(
        "http://deploy.test/next", status=303, headers={"Location": NOT_A_REDIRECT_TARGET}
    )
    browser = Browser(timeout=5, origins={"http://deploy.test"})
    page = browser.get("http://deploy.test/start")
    assert page.status == 303
    assert [h.url for h in browser.hops] == ["http://deploy.test/start", "http://deploy.test/next"]
    assert browser.hops[-1].location == NOT_A_REDIRECT_TARGET
    assert len(responses.calls) == 2
