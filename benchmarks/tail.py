"""The tariff poll path's tail under wrk: p99 of (a′), the tariff 200 and its 304 in one run.

    python benchmarks/tail.py [--rounds 4] [--duration 8] [--probe] [--config FILE ...]
                              [ENV=VALUE ...]

Seeds its own database (BENCH_DB, default fp_bench_tail) once into BENCH_WORK; Redis from
BENCH_REDIS_URL. Serves each gunicorn configuration given (default deploy/gunicorn.conf.py;
ENV=VALUE overrides, e.g. GUNICORN_MAX_REQUESTS=0), all at once, and measures (a′), (b) 200 and
(c) 304 round-robin — every round each configuration in turn, each target in the same order — so
machine load drifts over all of them alike. Per round it prints each target's p99 and the ratios
to (a′) of the same round and configuration, then the medians. `--probe` serves through
benchmarks/tail_probe.conf.py, which adds per-worker records of GC pauses and of the requests'
time in the worker (with their index since the worker started) and prints their summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import requests  # noqa: E402

from benchmarks import run as R  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=4)
parser.add_argument("--duration", type=int, default=8)
parser.add_argument("--connections", type=int, default=32)
parser.add_argument("--probe", action="store_true")
parser.add_argument(
    "--order", default="a1,b200,c304", help="target order in a round; `reverse` alternates it"
)
parser.add_argument("--config", action="append", help="gunicorn configuration file (repeatable)")
parser.add_argument("overrides", nargs="*", help="ENV=VALUE for the servers")
cli = parser.parse_args()
configs = cli.config or ["deploy/gunicorn.conf.py"]

work = Path(os.environ.get("BENCH_WORK", "/tmp/bench-tail"))  # noqa: S108
work.mkdir(exist_ok=True)
db = os.environ.get("BENCH_DB", "fp_bench_tail")
env = R.our_env(database=db, fake_flatpeak="http://127.0.0.1:9", fast_hasher=True)
if not (work / "ours.json").exists():
    R.recreate_database(db)
    R.sh(str(R.OUR_PY), "manage.py", "migrate", "--noinput", "-v0", env=env)
    R.sh(str(R.OUR_PY), "benchmarks/seed.py", "seed", str(work / "ours.json"), env=env)
ours = json.loads((work / "ours.json").read_text())
args = argparse.Namespace(threads=2, connections=cli.connections, duration=cli.duration)
extra = dict(kv.split("=", 1) for kv in cli.overrides)


def serve(config: str, probe_dir: Path) -> R.Server:
    server_env = {**env, **extra}
    if cli.probe:
        server_env.update(TAIL_PROBE_DIR=str(probe_dir), TAIL_PROBE_BASE=config)
        config = "benchmarks/tail_probe.conf.py"
    return R.Server(
        name="ours",
        argv=[str(R.OUR_PY.parent / "gunicorn"), "-c", config, "provider_auth.wsgi"],
        env=server_env,
        cwd=ROOT,
        drain_path="/healthz",
    )


probe_dirs = [Path(tempfile.mkdtemp(prefix="bench-tail-probe-")) for _ in configs]
servers = [serve(config, probe_dir) for config, probe_dir in zip(configs, probe_dirs, strict=True)]
bearer = {"Authorization": f"Bearer {ours['access_token']}"}
summary: dict[str, dict] = {}
try:
    targets_of = []
    for server in servers:
        server.wait("/healthz")
        etag = requests.get(
            server.url + "/api/v1/tariff",
            headers={"Host": R.HOST, "X-Forwarded-Proto": "https", **bearer},
            timeout=10,
        ).headers["ETag"]
        R.wrk(server=server, path="/api/v1/tariff", args=args, headers=bearer, duration=3)
        R.wrk(server=server, path="/bench/single-row", args=args, headers=bearer, duration=3)
        targets_of.append(
            [
                ("a1", "/bench/single-row", bearer),
                ("b200", "/api/v1/tariff", bearer),
                ("c304", "/api/v1/tariff", {**bearer, "If-None-Match": etag}),
            ]
        )
    rows: list[dict[str, list[dict]]] = [{"a1": [], "b200": [], "c304": []} for _ in servers]
    for round_ in range(cli.rounds):
        for config, server, targets, row in zip(configs, servers, targets_of, rows, strict=True):
            load = [round(x, 1) for x in os.getloadavg()]
            print(f"-- round {round_ + 1} {config} load {load}", flush=True)
            order = cli.order.split(",") if cli.order != "reverse" else ["a1", "b200", "c304"]
            if cli.order == "reverse" and round_ % 2:
                order = ["a1", "c304", "b200"]
            for name, path, headers in sorted(targets, key=lambda t: order.index(t[0])):
                row[name].append(R.wrk(server=server, path=path, args=args, headers=headers))
            a1, b, c = row["a1"][-1], row["b200"][-1], row["c304"][-1]
            print(
                f"   same round: p99 ÷ (a′) b {b['p99_ms'] / a1['p99_ms']:.2f} "
                f"c {c['p99_ms'] / a1['p99_ms']:.2f}; req/s ÷ (a′) "
                f"b {b['requests_per_s'] / a1['requests_per_s']:.2f} "
                f"c {c['requests_per_s'] / a1['requests_per_s']:.2f}",
                flush=True,
            )
    for config, server, row in zip(configs, servers, rows, strict=True):
        result: dict = {"worker_boots": server.log.read_text().count("Booting worker")}
        for name, measured in row.items():
            result[name] = {
                "p99_ms_median": statistics.median(r["p99_ms"] for r in measured),
                "p99_ms": [r["p99_ms"] for r in measured],
                "requests_per_s": [r["requests_per_s"] for r in measured],
            }
        a1_rps = sum(result["a1"]["requests_per_s"])
        for name in ("b200", "c304"):
            result[name]["p99_over_a1_median"] = statistics.median(
                b["p99_ms"] / a["p99_ms"] for a, b in zip(row["a1"], row[name], strict=True)
            )
            result[name]["rps_over_a1"] = round(sum(result[name]["requests_per_s"]) / a1_rps, 2)
        summary[config] = result
finally:
    for server in servers:
        server.stop()
print("SUMMARY", json.dumps({"overrides": extra, **summary}), flush=True)
if cli.probe:
    from benchmarks.tail_probe import probe_report

    for config, probe_dir in zip(configs, probe_dirs, strict=True):
        print(config, probe_report(probe_dir), flush=True)
