"""Where PostgreSQL spends its time on the poll query (query 1 of `/api/v1/tariff`): planning
against execution, per variant of the query, for a schedule tariff and a published one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB \
        .venv/bin/python benchmarks/poll_query_plan.py TOKENS.json [--repeat 200]

TOKENS.json is the file `benchmarks/seed.py seed` writes (its `access_token` polls a schedule
tariff, its `published_access_token` a published-prices one), against the database it seeded.
Each variant runs `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` `--repeat` times, interleaved, and
prints the median "Planning Time" and "Execution Time" PostgreSQL reports (server time, ms):

  full              the query as `polling_token_fetch` sends it
  no supply end     its supply-end scalar subquery replaced by NULL
  no publication    its publication-tag subquery replaced by NULL
  neither           both replaced
  no fence          the full query without MATERIALIZED on the token's CTE
  token only        `TOKEN_ONLY_SQL` (what `/api/v1/tariff/rates` sends)

and each variant again as a prepared statement (`PREPARE` once, then `EXPLAIN ANALYZE
EXECUTE`), as `polling_token_fetch` runs it: planned once per connection, with the plan it
settles on after five executions (custom or generic).

Timings here are PostgreSQL's own; the CPU each costs under load is `cpu_under_load.py`'s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 50)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from provider_auth.consent.lifecycle import supply_end_sql  # noqa: E402
from provider_auth.oauth.bearer import access_token_digest  # noqa: E402
from provider_auth.oauth.models import Grant  # noqa: E402
from provider_auth.tariff_api import sql  # noqa: E402


def variants() -> dict[str, str]:
    full = sql._token_with_contracts_sql("postgresql")
    supply_end = supply_end_sql(premise_column=f"g.{sql._column(Grant, 'premise')}")
    publication = sql._publication_column(sql.PUBLICATION_TAG)
    if supply_end not in full or publication not in full:
        raise SystemExit("the query no longer holds the subqueries this script replaces")
    return {
        "full": full,
        "no supply end": full.replace(supply_end, "NULL"),
        "no publication": full.replace(publication, "NULL"),
        "neither": full.replace(supply_end, "NULL").replace(publication, "NULL"),
        "no fence": full.replace("AS MATERIALIZED (", "AS ("),
        "token only": sql.TOKEN_ONLY_SQL,
    }


def explain(cursor, query: str, params: list) -> tuple[float, float]:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0].get("Planning Time", 0.0), plan[0]["Execution Time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tokens", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    cli = parser.parse_args()
    tokens = json.loads(cli.tokens.read_text())
    at = dt.datetime.now(dt.UTC)
    queries = variants()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0])
        for label, token_key in (
            ("schedule tariff", "access_token"),
            ("published tariff", "published_access_token"),
        ):
            digest = access_token_digest(tokens[token_key])
            plain: dict[str, list[tuple[float, float]]] = {name: [] for name in queries}
            ready: dict[str, list[tuple[float, float]]] = {name: [] for name in queries}
            settled: dict[str, str] = {}
            cursor.execute("DEALLOCATE ALL")
            for index, query in enumerate(queries.values()):
                # The same statement prepared, parameters in PostgreSQL's own $n form.
                numbered = query.replace("%s", "$1", 1).replace("%s", "$2", 1)
                types = "text" if query is sql.TOKEN_ONLY_SQL else "text, timestamptz, timestamptz"
                cursor.execute(f"PREPARE poll_{index}({types}) AS {numbered.replace('%s', '$3')}")
            for _ in range(cli.repeat):
                for index, (name, query) in enumerate(queries.items()):
                    params = [digest] if query is sql.TOKEN_ONLY_SQL else [digest, at, at]
                    plain[name].append(explain(cursor, query, params))
                    holders = ", ".join(["%s"] * len(params))
                    ready[name].append(explain(cursor, f"EXECUTE poll_{index}({holders})", params))
            for index, (name, query) in enumerate(queries.items()):
                params = [digest] if query is sql.TOKEN_ONLY_SQL else [digest, at, at]
                holders = ", ".join(["%s"] * len(params))
                cursor.execute(f"EXPLAIN EXECUTE poll_{index}({holders})", params)
                plan = "\n".join(r[0] for r in cursor.fetchall())
                settled[name] = "generic" if "$1" in plan else "custom"
            cursor.execute("DEALLOCATE ALL")
            print(f"\n{label}: median of {cli.repeat}, ms (PostgreSQL's own timing)")
            print(
                f"  {'variant':<16} {'planning':>9} {'execution':>10} {'total':>7}"
                f"   prepared: {'planning':>9} {'execution':>10} {'total':>7}  plan"
            )
            for name in queries:
                row = []
                for measured in (plain[name], ready[name]):
                    planning = statistics.median(p for p, _ in measured)
                    execution = statistics.median(e for _, e in measured)
                    row.append(f"{planning:>9.3f} {execution:>10.3f} {planning + execution:>7.3f}")
                print(f"  {name:<16} {row[0]}   prepared: {row[1]}  {settled[name]}")


if __name__ == "__main__":
    main()
