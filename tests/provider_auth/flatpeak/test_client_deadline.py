"""FLATPEAK_RETRY_DEADLINE bounds a whole call, against a real (loopback) FlatPeak that stalls.

requests' (connect, read) timeouts bound each socket operation; these servers stay just inside
them (trickling a byte at a time) or outlast one attempt, and the call must still return within
the deadline plus a small margin, with the typed error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from provider_auth.flatpeak.client import FlatPeakClient
from provider_auth.flatpeak.errors import FlatPeakUnavailable

TOKEN = "cot_68541c4c407600f62fd98a97"
DEADLINE = 1.0
MARGIN = 0.6
BODY = b'{"account": {"id": "acc_1", "display_name": "Heatly Pumps"}, "live_mode": false}'

Behaviour = Callable[[BaseHTTPRequestHandler, threading.Event], None]


def _slow(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Answers in full, but only after the deadline."""
    stop.wait(DEADLINE * 3)
    _answer(handler, BODY)


def _hang(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Reads the request and never answers."""
    stop.wait(60)


def _trickle_body(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Headers at once, then one byte of the body every 0.1 s (each read well in time)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(BODY)))
    handler.end_headers()
    handler.wfile.flush()
    for byte in BODY:
        if stop.wait(0.1):
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def _trickle_headers(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """The status line and then header lines, one every 0.1 s, never ending."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    index = 0
    while not stop.wait(0.1):
        handler.wfile.write(f"X-Padding-{index}: x\r\n".encode())
        handler.wfile.flush()
        index += 1


def _answer(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Server:
    def __init__(self) -> None:
        self.behaviour: Behaviour = _hang
        self.stop = threading.Event()
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.requests += 1
                try:
                    server.behaviour(self, server.stop)
                except OSError:  # the client gave up and closed: expected
                    pass
                self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_flatpeak(settings: Any) -> Iterator[_Server]:
    server = _Server()
    settings.DEBUG = True  # plain http on loopback
    settings.FLATPEAK_API_URL = server.url
    settings.FLATPEAK_ACCOUNT_ID = "acc_provider"
    settings.FLATPEAK_API_KEY = "sk_test_key"
    settings.FLATPEAK_RETRY_DEADLINE = DEADLINE
    # Generous per-operation timeouts: only the overall deadline can stop these servers in time.
    settings.FLATPEAK_CONNECT_TIMEOUT = 5
    settings.FLATPEAK_READ_TIMEOUT = 5
    yield server
    server.close()


CALLS: dict[str, Callable[[FlatPeakClient], Any]] = {
    "context": lambda client: client.session_context_get(connect_token=TOKEN),
    "submit": lambda client: client.session_submit(
        connect_token=TOKEN, payload={"status": "DECLINED"}, idempotency_key="k" * 32
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize(
    "behaviour",
    [_slow, _hang, _trickle_body, _trickle_headers],
    ids=["slow", "hang", "trickle-body", "trickle-headers"],
)
def test_a_stalling_flatpeak_is_given_up_on_at_the_deadline(
    slow_flatpeak: _Server, behaviour: Behaviour, call: str
) -> None:
    slow_flatpeak.behaviour = behaviour
    started = time.monotonic()
    with pytest.raises(FlatPeakUnavailable):
        CALLS[call](FlatPeakClient())
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + MARGIN, f"took {elapsed:.2f}s for a {DEADLINE}s deadline"
    assert slow_flatpeak.requests >= 1


def test_a_prompt_answer_is_read_in_full(slow_flatpeak: _Server) -> None:
    slow_flatpeak.behaviour = lambda handler, stop: _answer(handler, BODY)
    context = FlatPeakClient().session_context_get(connect_token=TOKEN)
    assert context.display_name == "Heatly Pumps"


def test_a_body_trickled_within_the_deadline_is_accepted(
    slow_flatpeak: _Server, settings: Any
) -> None:
    settings.FLATPEAK_RETRY_DEADLINE = 30  # 80 bytes at 0.1 s each: about 8 s is fine here
    short = b'{"account": {"display_name": "H"}}'

    def trickle(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(short)))
        handler.end_headers()
        for byte in short:
            if stop.wait(0.02):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    slow_flatpeak.behaviour = trickle
    assert FlatPeakClient().session_context_get(connect_token=TOKEN).display_name == "H"
