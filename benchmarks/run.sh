#!/usr/bin/env bash
# The load benchmark in one command. Needs PostgreSQL and Redis on loopback, wrk and
# python3.11 (for the peer's venv). Options: benchmarks/run.py --help
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python benchmarks/run.py "$@"
