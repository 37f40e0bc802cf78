"""Settings for the benchmark runner and the service-time harnesses: production's, plus the
`/bench/` ceilings (`benchmarks.urls`) taking the same middleware stack as the tariff API.

    DJANGO_SETTINGS_MODULE=benchmarks.settings
"""

from __future__ import annotations

from benchmarks.stack import benchmark_middleware
from provider_auth.settings import *  # noqa: F403
from provider_auth.settings import MIDDLEWARE as _PRODUCTION_MIDDLEWARE

ROOT_URLCONF = "benchmarks.urls"
MIDDLEWARE = benchmark_middleware(_PRODUCTION_MIDDLEWARE)
