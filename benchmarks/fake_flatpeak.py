"""A local fake FlatPeak API for the connect-flow benchmark: answers the session context GET and
accepts the decision POST at once. `python benchmarks/fake_flatpeak.py PORT`."""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PATH = re.compile(r"^/connect/session/(cot_[0-9a-f]{24})$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _json(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        match = _PATH.match(self.path)
        if not match:
            return self._json(404, {"object": "error", "code": "not_found"})
        self._json(
            200,
            {
                "account": {"id": "acc_bench", "display_name": "Bench Devices Ltd"},
                "connect_web_uri": "https://connect.flatpeak.example/return",
                "direction": "IMPORT",
            },
        )

    def do_POST(self) -> None:
        match = _PATH.match(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not match:
            return self._json(404, {"object": "error", "code": "not_found"})
        self._json(
            200, {"redirect_uri": f"https://connect.flatpeak.example/done?fp_cot={match[1]}"}
        )


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
