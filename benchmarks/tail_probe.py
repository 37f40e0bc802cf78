"""Per-worker records for benchmarks/tail.py --probe: GC pauses and slow requests.

The hooks wrap deploy/gunicorn.conf.py's (benchmarks/tail_probe.conf.py installs them); each
worker writes its record to TAIL_PROBE_DIR when it exits (recycled or stopped).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

_state: dict[str, Any] = {}


def _gc_callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _state["gc_t0"] = time.perf_counter()
        return
    ms = (time.perf_counter() - _state.get("gc_t0", time.perf_counter())) * 1000
    _state["gc"].append((info["generation"], round(ms, 3)))
    _state["gc_in_request"] += ms


def worker_init() -> None:
    _state.update(
        booted=time.perf_counter(), gc=[], gc_in_request=0.0, requests=[], index=0, t0=0.0
    )
    gc.callbacks.append(_gc_callback)


def request_start() -> None:
    _state["gc_in_request"] = 0.0
    _state["t0"] = time.perf_counter()


def request_end(path: str) -> None:
    ms = (time.perf_counter() - _state["t0"]) * 1000
    _state["index"] += 1
    _state["requests"].append(
        (_state["index"], round(ms, 3), round(_state["gc_in_request"], 3), path)
    )


def worker_write() -> None:
    directory = os.environ.get("TAIL_PROBE_DIR")
    if not directory or "requests" not in _state:
        return
    Path(directory, f"{os.getpid()}.json").write_text(
        json.dumps({"gc": _state["gc"], "requests": _state["requests"]})
    )


def probe_report(directory: Path) -> str:
    workers = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    requests = [r for w in workers for r in w["requests"]]
    if not requests:
        return "probe: no records"
    durations = sorted(r[1] for r in requests)
    p99 = durations[int(len(durations) * 0.99)]
    first = [r[1] for r in requests if r[0] == 1]
    second = [r[1] for r in requests if r[0] == 2]
    rest = [r[1] for r in requests if r[0] > 10]
    gcs: dict[int, list[float]] = {}
    for w in workers:
        for gen, ms in w["gc"]:
            gcs.setdefault(gen, []).append(ms)
    slow = [r for r in requests if r[1] >= p99]
    lines = [
        f"probe: {len(workers)} worker lives, {len(requests)} requests in the worker "
        f"(pre_request → post_request), p50 {statistics.median(durations):.2f} ms, "
        f"p99 {p99:.2f} ms, max {durations[-1]:.2f} ms",
        f"  1st request of a worker: n={len(first)} median "
        f"{statistics.median(first) if first else 0:.2f} ms max {max(first, default=0):.2f}; "
        f"2nd: median {statistics.median(second) if second else 0:.2f} ms; "
        f"11th+: median {statistics.median(rest) if rest else 0:.2f} ms",
        f"  requests ≥ p99 ({len(slow)}): with a GC pause inside {sum(1 for r in slow if r[2] > 0)}"
        f", GC ms inside them {sum(r[2] for r in slow):.1f} of {sum(r[1] for r in slow):.1f}"
        f", among a worker's first 10: {sum(1 for r in slow if r[0] <= 10)}",
    ]
    for gen in sorted(gcs):
        ms = sorted(gcs[gen])
        lines.append(
            f"  gc gen{gen}: {len(ms)} collections, median {statistics.median(ms):.3f} ms, "
            f"max {ms[-1]:.2f} ms, total {sum(ms):.0f} ms"
        )
    by_path: dict[str, list[float]] = {}
    for r in requests:
        by_path.setdefault(r[3], []).append(r[1])
    for path, ms in sorted(by_path.items()):
        ms.sort()
        lines.append(
            f"  {path}: n={len(ms)} p50 {ms[len(ms) // 2]:.2f} p99 {ms[int(len(ms) * 0.99)]:.2f} "
            f"max {ms[-1]:.2f} ms"
        )
    return "\n".join(lines)
