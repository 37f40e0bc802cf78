"""Whole connect flows per second: entry → login page → login → consent → Allow → FlatPeak.

Each worker thread plays one browser at a time (cookies by hand: they are Secure and we speak
plain HTTP to gunicorn, as a TLS-terminating proxy would). Processes × threads = concurrency.
"""

from __future__ import annotations

import multiprocessing
import re
import secrets
import threading
import time
from typing import Any

import requests

HOST = "auth.bench.test"
HEADERS = {
    "Host": HOST,
    "X-Forwarded-Proto": "https",
    "Origin": f"https://{HOST}",
    "Referer": f"https://{HOST}/",
}


def _one_flow(http: requests.Session, base: str, email: str, password: str) -> None:
    cookies: dict[str, str] = {}

    def call(method: str, path: str, data: dict[str, str] | None = None) -> requests.Response:
        if data is not None:
            csrf = next((v for k, v in cookies.items() if k.endswith("csrftoken")), "")
            data = {"csrfmiddlewaretoken": csrf, **data}
        response = http.request(
            method,
            base + path,
            data=data,
            headers=HEADERS,
            cookies=cookies,
            allow_redirects=False,
            timeout=30,
        )
        for cookie in response.cookies:
            cookies[cookie.name] = cookie.value or ""
        return response

    token = "cot_" + secrets.token_hex(12)
    entry = call("GET", f"/flatpeak/auth?connect_token={token}")
    if entry.status_code != 303:
        raise RuntimeError(f"entry {entry.status_code}")
    step = re.sub(r"^https?://[^/]+", "", entry.headers["Location"])
    if call("GET", step).status_code != 200:
        raise RuntimeError("login page")
    login = call(
        "POST", step + "login", {"action": "login", "username": email, "password": password}
    )
    if login.status_code != 303:
        raise RuntimeError(f"login {login.status_code}")
    consent = call("GET", step)
    if consent.status_code != 200 or 'value="allow"' not in consent.text:
        raise RuntimeError("consent page")
    allow = call("POST", step + "decide", {"decision": "allow"})
    if allow.status_code != 303 or "connect.flatpeak.example/done" not in allow.headers.get(
        "Location", ""
    ):
        raise RuntimeError(f"allow {allow.status_code}")


def _process(args: tuple[str, list[str], str, int, float]) -> tuple[list[float], int, list[str]]:
    base, emails, password, threads, duration = args
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker(email: str) -> None:
        http = requests.Session()
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                _one_flow(http, base, email, password)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(exc)[:80])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    pool = [
        threading.Thread(target=worker, args=(emails[i % len(emails)],)) for i in range(threads)
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, len(errors), errors[:5]


def flows_run(
    *,
    base: str,
    emails: list[str],
    password: str,
    concurrency: int,
    duration: float,
    processes: int = 2,
) -> dict[str, Any]:
    per = concurrency // processes
    chunks = [emails[i::processes] for i in range(processes)]
    start = time.monotonic()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_process, [(base, chunk, password, per, duration) for chunk in chunks])
    elapsed = time.monotonic() - start
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    return {
        "flows": len(latencies),
        "flows_per_s": len(latencies) / elapsed,
        "requests_per_s": 5 * len(latencies) / elapsed,
        "p50_ms": pct(0.50) * 1000,
        "p99_ms": pct(0.99) * 1000,
        "errors": errors,
        "error_samples": [e for r in results for e in r[2]][:5],
    }
