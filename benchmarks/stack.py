"""The benchmark settings' middleware list, without importing Django (settings modules may not)."""

from __future__ import annotations

_PRODUCTION = "provider_auth.tariff_api.middleware."
_BENCHMARK = "benchmarks.middleware."
# The browser-only classes `benchmarks.middleware` subclasses to stand aside on /bench/ too.
BROWSER_ONLY = (
    "SessionMiddleware",
    "LocaleMiddleware",
    "AuthenticationMiddleware",
    "SessionTimeoutMiddleware",
    "MessageMiddleware",
)


def benchmark_middleware(production: list[str]) -> list[str]:
    """`production`'s MIDDLEWARE with the browser-only classes swapped for the benchmark's."""
    swapped = {_PRODUCTION + name: _BENCHMARK + name for name in BROWSER_ONLY}
    return [swapped.get(name, name) for name in production]
