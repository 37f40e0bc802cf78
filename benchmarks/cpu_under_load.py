"""Where the CPU of one request goes under wrk: gunicorn workers, their PostgreSQL backends,
Redis and wrk, for (a′), (b) and (c). The in-process service time only sees the workers.

    .venv/bin/python benchmarks/cpu_under_load.py [ENV=VALUE ...]   (e.g. GUNICORN_WORKERS=3)

Seeds its own database (BENCH_DB, default fp_bench_cpu) once into BENCH_WORK; Redis from
BENCH_REDIS_URL. Worker recycling is off here (GUNICORN_MAX_REQUESTS=0) because the CPU time of
a worker that exits is lost to this accounting; everything else is deploy/gunicorn.conf.py.
Other processes on the machine do not enter the figures, except in Redis (one shared server).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import requests  # noqa: E402

from benchmarks import run as R  # noqa: E402

work = Path(os.environ.get("BENCH_WORK", "/tmp/bench-cpu"))  # noqa: S108
work.mkdir(exist_ok=True)
db = os.environ.get("BENCH_DB", "fp_bench_cpu")
env = R.our_env(database=db, fake_flatpeak="http://127.0.0.1:9", fast_hasher=True)
env["GUNICORN_MAX_REQUESTS"] = "0"
if not (work / "ours.json").exists():
    R.recreate_database(db)
    R.sh(str(R.OUR_PY), "manage.py", "migrate", "--noinput", "-v0", env=env)
    R.sh(str(R.OUR_PY), "benchmarks/seed.py", "seed", str(work / "ours.json"), env=env)
ours = json.loads((work / "ours.json").read_text())
args = argparse.Namespace(threads=2, connections=32, duration=int(os.environ.get("DUR", "10")))
extra = dict(kv.split("=", 1) for kv in sys.argv[1:])
HZ = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0


def pg_pids():
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-Atc",
            "select pid, datname from pg_stat_activity",
        ],
        capture_output=True,
        text=True,
    ).stdout
    return [int(pid) for pid, _, name in (row.partition("|") for row in out.split()) if name == db]


redis_pid = int(
    subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()[
        0
    ]
)
server = R.gunicorn_ours({**env, **extra})
try:
    server.wait("/healthz")
    bearer = {"Authorization": f"Bearer {ours['access_token']}"}
    etag = requests.get(
        server.url + "/api/v1/tariff",
        headers={"Host": R.HOST, "X-Forwarded-Proto": "https", **bearer},
        timeout=10,
    ).headers["ETag"]
    R.wrk(server=server, path="/api/v1/tariff", args=args, headers=bearer, duration=3)
    R.wrk(server=server, path="/bench/single-row", args=args, headers=bearer, duration=3)
    for name, path, h in [
        ("a1", "/bench/single-row", bearer),
        ("b", "/api/v1/tariff", bearer),
        ("c", "/api/v1/tariff", {**bearer, "If-None-Match": etag}),
        ("a1", "/bench/single-row", bearer),
    ]:
        ws, ps = server.workers(), pg_pids()
        before = {
            "workers": sum(map(ticks, ws)),
            "postgres": sum(map(ticks, ps)),
            "redis": ticks(redis_pid),
            "wrk": resource.getrusage(resource.RUSAGE_CHILDREN),
        }
        r = R.wrk(server=server, path=path, args=args, headers=h)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        n = r["requests"]
        cpu = {
            "workers": (sum(map(ticks, ws)) - before["workers"]) / HZ,
            "postgres": (sum(map(ticks, ps)) - before["postgres"]) / HZ,
            "redis": (ticks(redis_pid) - before["redis"]) / HZ,
            "wrk+drain": (
                ru.ru_utime + ru.ru_stime - before["wrk"].ru_utime - before["wrk"].ru_stime
            ),
        }
        print(
            name,
            "load",
            [round(x, 1) for x in os.getloadavg()],
            "ms CPU/request:",
            {k: round(v * 1000 / n, 3) for k, v in cpu.items()},
            "total",
            round(sum(cpu.values()) * 1000 / n, 3),
            flush=True,
        )
finally:
    server.stop()
