"""A served fake Kraken, for benchmarks that run our server as a process: the recorded answers of
`tests/accounts/sources/fixtures/kraken/` over HTTP on loopback.

In-process tests replay the same fixtures with `responses` (`tests/accounts/sources/
kraken_replay.py`, whose look-ups this reuses). Here a gunicorn server talks to a real socket:

    python tests/fakes/kraken.py PORT

serves the GraphQL API at `/v1/graphql/` (`obtainKrakenToken`, then `AccountSupplyPoints` with the
token in `Authorization`, as Kraken requires) and the products API under `/v1/products/`.
`GET /calls` answers how many Kraken requests it has served, so a benchmark can prove that its
measured requests were answered from the cache and never reached "Kraken".
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.accounts.sources.kraken_replay import account_fixture, fixture, rest_page  # noqa: E402

GRAPHQL_PATH = "/v1/graphql/"
_NO_TOKEN = {
    "data": None,
    "errors": [
        {
            "message": "'Authorization' header not provided.",
            "extensions": {"errorType": "AUTHORIZATION", "errorCode": "KT-CT-1112"},
        }
    ],
}


class Counter:
    """Kraken requests served so far (`GET /calls` reads it over HTTP)."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.calls += 1


def handler_for(counter: Counter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Kraken's API

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/calls":
                self._send(200, json.dumps({"calls": counter.calls}))
                return
            counter.add()
            self._send(*rest_page(path=parts.path, query=parts.query))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            counter.add()
            if urlsplit(self.path).path != GRAPHQL_PATH:
                self._send(404, json.dumps({"detail": "Not found."}))
                return
            body = json.loads(raw or b"{}")
            operation = body.get("operationName", "")
            if operation == "ObtainKrakenToken":
                answer = fixture("graphql/ObtainKrakenToken.json")
            elif not self.headers.get("Authorization"):
                answer = _NO_TOKEN
            elif operation == "AccountSupplyPoints":
                answer = account_fixture(str(body.get("variables", {}).get("accountNumber", "")))
            else:
                answer = {"data": None, "errors": [{"message": f"unknown {operation[:40]}"}]}
            self._send(200, json.dumps(answer))

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def serving(*, port: int = 0) -> Iterator[tuple[str, Counter]]:
    """The fake in a thread of this process: (base URL, counter)."""
    counter = Counter()
    server = _Server(("127.0.0.1", port), handler_for(counter))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", counter
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    _Server(("127.0.0.1", args.port), handler_for(Counter())).serve_forever()


if __name__ == "__main__":
    main()
