"""The one served fake FlatPeak API, for tests that run our server as a process and for benchmarks.

It answers FlatPeak's two connect calls on `/connect/session/<connect token>`: GET, the session
context; POST, the customer's decision (recorded, answered with a `redirect_uri`). Both need the
account's HTTP Basic credentials, as FlatPeak's do. Tests that call our code in-process use the
`responses`-based fake in `tests/provider_auth/connect/conftest.py` instead; the demo and the
onboarding check use the sandbox app, which also validates what it receives.

Standard library only, so a benchmark can run it as a plain script in its own process:

    python tests/fakes/flatpeak.py PORT --account-id acc_x --api-key sk_x
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Where FlatPeak's pages live (connect_web_uri, the redirect_uri after a decision): the server
# under test must list this host in FLATPEAK_REDIRECT_HOSTS.
RETURN_ORIGIN = "https://connect.flatpeak.example"
_SESSION_PATH = re.compile(r"/connect/session/(cot_[0-9a-f]{24})")


@dataclass
class FakeFlatPeak:
    """What the fake answers with and what it has received (read it with `submissions_for`)."""

    account_id: str
    api_key: str
    display_name: str = "Fake Devices Ltd"
    # The session context's redirect_uri (our authentication URI), when the caller checks it.
    auth_uri: str | None = None
    # Seconds each decision POST takes: widens the window for concurrent "Allow" taps.
    submit_delay: float = 0.0
    url: str = ""
    submissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submissions_for(self, token: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.submissions.get(token, []))

    def authorization(self) -> str:
        credentials = f"{self.account_id}:{self.api_key}".encode()
        return "Basic " + base64.b64encode(credentials).decode()

    def context(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "account": {"id": "acc_device", "display_name": self.display_name},
            "connect_web_uri": f"{RETURN_ORIGIN}/return",
            "direction": "IMPORT",
            "live_mode": False,
        }
        if self.auth_uri:
            body["redirect_uri"] = self.auth_uri
        return body

    def record(self, *, token: str, body: dict[str, Any], idempotency_key: str) -> None:
        with self.lock:
            self.submissions.setdefault(token, []).append(
                {"body": body, "idempotency_key": idempotency_key}
            )


def handler_for(fake: FakeFlatPeak) -> type[BaseHTTPRequestHandler]:
    expected = fake.authorization().encode()

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as FlatPeak's API: the client's connection pool is part of what is measured.
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _checked_token(self) -> str | None:
            """The connect token, after answering 401/404 itself (then None)."""
            given = self.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                self._json(401, {"object": "error", "code": "unauthorized"})
                return None
            match = _SESSION_PATH.fullmatch(self.path)
            if match is None:
                self._json(404, {"object": "error", "code": "not_found"})
                return None
            return match[1]

        def do_GET(self) -> None:
            if self._checked_token() is not None:
                self._json(200, fake.context())

        def do_POST(self) -> None:
            # Read the body first, whatever the answer: the connection is reused.
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            token = self._checked_token()
            if token is None:
                return
            time.sleep(fake.submit_delay)
            fake.record(
                token=token,
                body=json.loads(raw or b"{}"),
                idempotency_key=self.headers.get("Idempotency-Key", ""),
            )
            self._json(200, {"redirect_uri": f"{RETURN_ORIGIN}/done?fp_cot={token}"})

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def serving(fake: FakeFlatPeak, *, port: int = 0) -> Iterator[FakeFlatPeak]:
    """Serve `fake` on 127.0.0.1 (any free port unless given) in a thread; `fake.url` is set."""
    server = _Server(("127.0.0.1", port), handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fake FlatPeak API until stopped.")
    parser.add_argument("port", type=int)
    parser.add_argument("--account-id", required=True, help="FLATPEAK_ACCOUNT_ID it accepts")
    parser.add_argument("--api-key", required=True, help="FLATPEAK_API_KEY it accepts")
    parser.add_argument("--display-name", default="Fake Devices Ltd")
    args = parser.parse_args(argv)
    fake = FakeFlatPeak(
        account_id=args.account_id, api_key=args.api_key, display_name=args.display_name
    )
    _Server(("127.0.0.1", args.port), handler_for(fake)).serve_forever()


if __name__ == "__main__":
    main()
