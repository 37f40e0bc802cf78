"""A gunicorn configuration (deploy/gunicorn.conf.py by default) with benchmarks/tail_probe.py's
hooks chained after its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The configuration under test (benchmarks/tail.py --config), deploy/gunicorn.conf.py by default.
exec(Path(os.environ.get("TAIL_PROBE_BASE", "deploy/gunicorn.conf.py")).read_text())  # noqa: S102

from benchmarks import tail_probe  # noqa: E402

_deploy = {
    name: globals().get(name)
    for name in ("post_worker_init", "pre_request", "post_request", "worker_exit")
}


def post_worker_init(worker: Any) -> None:
    if _deploy["post_worker_init"]:
        _deploy["post_worker_init"](worker)
    tail_probe.worker_init()


def pre_request(worker: Any, req: Any) -> None:
    if _deploy["pre_request"]:
        _deploy["pre_request"](worker, req)
    tail_probe.request_start()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    if _deploy["post_request"]:
        _deploy["post_request"](worker, req, environ, resp)
    tail_probe.request_end(req.path + (" inm" if environ.get("HTTP_IF_NONE_MATCH") else ""))


def worker_exit(server: Any, worker: Any) -> None:
    tail_probe.worker_write()
    if _deploy["worker_exit"]:
        _deploy["worker_exit"](server, worker)
