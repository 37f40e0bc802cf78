"""The Kraken-source benchmark's configuration, shared by `run.py` (the served Kraken server's
environment) and `service_time.py` (the same settings in-process). No Django import.

The served fake (`tests/fakes/kraken.py`) answers from the recorded fixtures on loopback over
plain http: only the benchmark does this, and the https system check (`accounts.E004`) is not
run by gunicorn. Agreements are kept for an hour instead of five minutes so that none expires
(and reaches the fake) during a measured run; the per-request cost is the same, since a worker
re-reads the shared cache every `KRAKEN_MEMO_SECONDS` whatever the TTL.
"""

from __future__ import annotations

KRAKEN_SOURCE = "accounts.sources.kraken.KrakenTariffSource"
AGREEMENTS_TTL_SECONDS = 3600


def kraken_settings(fake_url: str) -> dict[str, str]:
    """Settings (as environment strings) pointing the Kraken source at the fake."""
    return {
        "TARIFF_SOURCE": KRAKEN_SOURCE,
        "KRAKEN_GRAPHQL_URL": f"{fake_url}/v1/graphql/",
        "KRAKEN_REST_URL": f"{fake_url}/v1",
        "KRAKEN_ORGANIZATION_SECRET_KEY": "sk_bench_organisation",
        "KRAKEN_AGREEMENTS_TTL": str(AGREEMENTS_TTL_SECONDS),
    }
