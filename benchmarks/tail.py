"""The tariff poll path's tail under wrk: p99 of (a′) and of every tariff 200 and 304 in one run.

    python benchmarks/tail.py [--rounds 4] [--duration 8] [--probe] [--config FILE ...]
                              [ENV=VALUE ...]

Seeds its own database (BENCH_DB, default fp_bench_tail) once into BENCH_WORK; Redis from
BENCH_REDIS_URL. Serves each gunicorn configuration given (default deploy/gunicorn.conf.py;
ENV=VALUE overrides, e.g. GUNICORN_MAX_REQUESTS=0), all at once, and measures (a′), the schedule
tariff's (b) 200 and (c) 304, the published-prices tariff's (i) 304 and (j) 200 round-robin —
every round each configuration in turn, each target in the same order — so machine load drifts
over all of them alike. Per round it prints each target's p99 and req/s as ratios to (a′) of the
same round and configuration; at the end, per configuration, the targets of docs/performance.md
that these targets decide (p99 of each ≤ 1.5 × (a′)'s, median over rounds of the same round's
ratio; (c) and (i) ≥ 0.8 × (a′) in req/s), as `benchmarks/report.py` evaluates them. `--probe`
serves through benchmarks/tail_probe.conf.py, which adds per-worker records of GC pauses and of the requests'
time in the worker (with their index since the worker started) and prints their summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import requests  # noqa: E402

from benchmarks import run as R  # noqa: E402
from benchmarks.report import targets_evaluate  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=4)
parser.add_argument("--duration", type=int, default=8)
parser.add_argument("--connections", type=int, default=32)
parser.add_argument("--probe", action="store_true")
parser.add_argument(
    "--order",
    default="a1,b,c,i,j",
    help="target order in a round (a1 b c i j); `reverse` alternates the tariff targets",
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
published = {"Authorization": f"Bearer {ours['published_access_token']}"}
# (key as in run.py's results, short name) — the ceiling first, then every tariff 200 and 304.
TARGETS = [
    ("a1_single_row", "a′"),
    ("b_tariff_200", "b"),
    ("c_tariff_304", "c"),
    ("i_published_304", "i"),
    ("j_published_200", "j"),
]


def etag_of(server: R.Server, headers: dict[str, str]) -> str:
    return str(
        requests.get(
            server.url + "/api/v1/tariff",
            headers={"Host": R.HOST, "X-Forwarded-Proto": "https", **headers},
            timeout=10,
        ).headers["ETag"]
    )


def round_order(round_: int) -> list[str]:
    """(a′) first in every round; with `--order reverse` the tariff targets run backwards in
    every other round, so none of them always follows the same one."""
    if cli.order == "reverse":
        rest = [key for key, _ in TARGETS[1:]]
        return [TARGETS[0][0], *(reversed(rest) if round_ % 2 else rest)]
    short = {name: key for key, name in TARGETS} | {"a1": "a1_single_row"}
    return [short.get(name, name) for name in cli.order.split(",")]


summary: dict[str, dict] = {}
try:
    targets_of = []
    for server in servers:
        server.wait("/healthz")
        etag, published_etag = etag_of(server, bearer), etag_of(server, published)
        R.wrk(server=server, path="/api/v1/tariff", args=args, headers=bearer, duration=3)
        R.wrk(server=server, path="/bench/single-row", args=args, headers=bearer, duration=3)
        targets_of.append(
            {
                "a1_single_row": ("/bench/single-row", bearer),
                "b_tariff_200": ("/api/v1/tariff", bearer),
                "c_tariff_304": ("/api/v1/tariff", {**bearer, "If-None-Match": etag}),
                "i_published_304": (
                    "/api/v1/tariff",
                    {**published, "If-None-Match": published_etag},
                ),
                "j_published_200": ("/api/v1/tariff", published),
            }
        )
    rows: list[dict[str, list[dict]]] = [{key: [] for key, _ in TARGETS} for _ in servers]
    for round_ in range(cli.rounds):
        for config, server, targets, row in zip(configs, servers, targets_of, rows, strict=True):
            load = [round(x, 1) for x in os.getloadavg()]
            print(f"-- round {round_ + 1} {config} load {load}", flush=True)
            for key in round_order(round_):
                path, headers = targets[key]
                row[key].append(R.wrk(server=server, path=path, args=args, headers=headers))
            a1 = row["a1_single_row"][-1]
            print(
                "   same round, ÷ (a′): "
                + "; ".join(
                    f"{name} p99 {row[key][-1]['p99_ms'] / a1['p99_ms']:.2f} "
                    f"req/s {row[key][-1]['requests_per_s'] / a1['requests_per_s']:.2f}"
                    for key, name in TARGETS[1:]
                    if row[key]
                ),
                flush=True,
            )
    for config, server, row in zip(configs, servers, rows, strict=True):
        result: dict = {"worker_boots": server.log.read_text().count("Booting worker")}
        for key, measured in row.items():
            if measured:
                result[key] = R.rounds_combine(measured)
        summary[config] = result
finally:
    for server in servers:
        server.stop()
print("SUMMARY", json.dumps({"overrides": extra, **summary}), flush=True)
for config, result in summary.items():
    print(f"\nTargets, {config} (load average now {os.getloadavg()[0]:.1f}):")
    measured_targets = {k: v for k, v in result.items() if isinstance(v, dict)}
    for name, measured, met, _ in targets_evaluate(measured_targets, {}):
        if measured != "not in this run":
            print(f"  {name:<44} {measured:<44} {'met' if met else 'MISSED'}")
if cli.probe:
    from benchmarks.tail_probe import probe_report

    for config, probe_dir in zip(configs, probe_dirs, strict=True):
        print(config, probe_report(probe_dir), flush=True)
