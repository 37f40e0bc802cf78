"""Gunicorn settings for production. Every value can be overridden from the environment.

    gunicorn -c deploy/gunicorn.conf.py provider_auth.wsgi

Workers are synchronous processes (the app is CPU- and database-bound, and a FlatPeak call is
bounded by FLATPEAK_RETRY_DEADLINE); scale by adding workers and instances, not threads.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# (2 × CPUs) + 1 is gunicorn's rule of thumb for sync workers: one busy on CPU, one waiting on
# PostgreSQL or FlatPeak. CPUs = those this process may run on (a cpuset limits them); a CFS
# quota (docker --cpus) is invisible here, so containers with one set GUNICORN_WORKERS.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
workers = _int("GUNICORN_WORKERS", (_cpus or multiprocessing.cpu_count()) * 2 + 1)
worker_class = "sync"
# A connect-flow request may wait for FlatPeak: FLATPEAK_RETRY_DEADLINE (8 s) plus margin.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM / SIGHUP a worker finishes its request before it goes (graceful restart).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# The load balancer / nginx keeps connections open; shorter than its upstream keepalive.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so slow leaks never matter. Workers start together and share the
# load evenly, so a small jitter (it was 10 %) restarted all of them within ~1 s: every 25 s under
# load, each restart re-importing Django (~1 s of CPU each), p99 up to 0.3–0.7 s
# (benchmarks/notes.md). Half of max_requests spreads the restarts out.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)
# Import the app once in the master: a (re)started worker is a fork (milliseconds, memory shared
# copy-on-write) instead of a fresh Django import. Code changes then need a restart of the
# master (a new container / `systemctl restart`), not SIGHUP. GUNICORN_PRELOAD=false turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in {"0", "false", "no", "off"}
# Request-line and header limits (nginx enforces body size; these protect direct exposure).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Trust X-Forwarded-* only from the proxy in front of us (nginx / load balancer address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Heartbeat files on tmpfs: a worker blocked on a slow disk must not be killed as "hung".
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# No runtime control socket (gunicorn ≥ 25 would create one in $HOME/.gunicorn by default):
# nobody should be able to resize or reload the server through a file in a home directory.
control_socket_disable = True
proc_name = "provider-auth"

# Logs: stdout/stderr for the container / journald. The logger class writes JSON lines with the
# request id and without query strings; the format below is what it uses with LOG_FORMAT=console.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
if accesslog.lower() in {"", "off", "none"}:
    accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "provider_auth.ops.gunicorn_logging.Logger"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'

# Prometheus multiprocess mode: every worker writes its metrics to files in this directory and
# /metrics adds them up. It must be set before a worker imports prometheus_client, so here.
_multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _multiproc_dir:
    _multiproc_dir = tempfile.mkdtemp(prefix="provider-auth-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _multiproc_dir
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={_multiproc_dir}"]


def on_starting(server: Any) -> None:
    """Start from an empty metrics directory: files of a previous run would be added up."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.is_file() and entry.suffix == ".db":
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)


def pre_fork(server: Any, worker: Any) -> None:
    """Before each fork of a preloaded app: what a worker would otherwise build inside its first
    request is built here, once (`process_warm`: the URL resolver with every view module,
    translations, the cache client; ~0.2 s of CPU that was paid by every new worker, i.e. on
    every recycling, inside a request); no connection may be shared with a worker; and the
    objects made so far go to the permanent GC generation, so the workers' collections do not
    scan (and un-share, by writing their headers) the whole Django heap on every full collection."""
    if "django" in sys.modules:
        from django.db import connections

        from provider_auth.ops.warmup import process_warm

        process_warm()
        connections.close_all()  # none is opened at import today; a shared socket would corrupt
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """In the new worker, before it accepts a request: warm what the master could not (all of it
    without preload_app), and open the worker's own database and Redis connections."""
    from provider_auth.ops.warmup import connections_warm, process_warm

    process_warm()
    connections_warm()


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges must go; its counters stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if directory.startswith(tempfile.gettempdir() + "/provider-auth-metrics-"):
        shutil.rmtree(directory, ignore_errors=True)
