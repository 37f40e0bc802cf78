"""Shared fixtures: factories with keyword defaults, network guard, environment requirements.

`REQUIRE_POSTGRES=1` / `REQUIRE_CHROMIUM=1` (set by .ci/run) turn "skip with a reason" into a
failure, so CI can never go green by silently skipping the tests that matter.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Contract, Direction, Premise, Pricing, Tariff, TariffRule, User
from provider_auth.oauth import tokens
from provider_auth.oauth.models import OAuthClient

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


# --- Network guard: tests talk to loopback only; FlatPeak is mocked with `responses`. ---------
_real_connect = socket.socket.connect


def _loopback_only_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            is_loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            is_loopback = host == "localhost"
        if not is_loopback:
            raise OSError(f"Tests may not reach the network (tried {host!r}).")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Any:
    socket.socket.connect = _loopback_only_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


# --- Environment requirements --------------------------------------------------------------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    need_browser = _env_flag("REQUIRE_CHROMIUM")
    have_browser = os.path.exists(CHROMIUM_PATH) or shutil.which("chromium") is not None
    for item in items:
        if "browser" in item.keywords and not have_browser:
            if need_browser:
                item.add_marker(
                    pytest.mark.usefixtures("_fail_missing_chromium"),
                )
            else:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM_PATH} "
                        "(apt-get install chromium); CI sets REQUIRE_CHROMIUM=1 and fails instead"
                    )
                )
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.usefixtures("_require_postgres"))


@pytest.fixture
def _fail_missing_chromium() -> None:
    pytest.fail(f"REQUIRE_CHROMIUM is set but Chromium is missing at {CHROMIUM_PATH}")


@pytest.fixture
def _require_postgres(db: Any) -> None:
    if connection.vendor != "postgresql":
        message = (
            "needs PostgreSQL (its locks, concurrency or prepared statements); run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/provider_auth"
        )
        if _env_flag("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES is set but the database is " + connection.vendor)
        pytest.skip(message)


# --- Factories -----------------------------------------------------------------------------
@pytest.fixture
def make_customer(db: Any) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        *, email: str | None = None, password: str = "correct-horse-battery", **extra: Any
    ) -> User:
        return User.objects.create_user(
            email=email or f"customer{next(counter)}@example.com", password=password, **extra
        )

    return make


@pytest.fixture
def make_premise(db: Any, make_customer: Callable[..., User]) -> Callable[..., Premise]:
    counter = iter(range(1, 10_000))

    def make(*, customer: User | None = None, **fields: Any) -> Premise:
        n = next(counter)
        defaults: dict[str, Any] = {
            "reference": f"PRM-9{n:05d}",
            "address_line1": f"{n} Test Street",
            "city": "London",
            "state": "Greater London",
            "post_code": "WC2N 5EH",
            "country_code": "GB",
        }
        defaults.update(fields)
        return Premise.objects.create(customer=customer or make_customer(), **defaults)

    return make


@pytest.fixture
def make_tariff(db: Any) -> Callable[..., Tariff]:
    """A tariff; `rules` is a list of (valid_from, valid_to, rate[, weekdays[, months]])."""

    def make(
        *,
        name: str = "Fixed Saver",
        currency: str = "GBP",
        timezone_name: str = "Europe/London",
        standing_charge: str = "0.45",
        rules: list[tuple[Any, ...]] | None = None,
    ) -> Tariff:
        tariff = Tariff.objects.create(
            name=name,
            currency=currency,
            timezone=timezone_name,
            standing_charge=Decimal(standing_charge),
        )
        for rule in rules or [("00:00", "24:00", "0.2450")]:
            valid_from, valid_to, rate, *rest = rule
            TariffRule.objects.create(
                tariff=tariff,
                valid_from=valid_from,
                valid_to=valid_to,
                unit_rate=Decimal(rate),
                weekdays=rest[0] if len(rest) > 0 else list(range(7)),
                months=rest[1] if len(rest) > 1 else list(range(1, 13)),
            )
        return tariff

    return make


@pytest.fixture
def make_market_tariff(db: Any) -> Callable[..., Tariff]:
    """A market-indexed tariff in Germany (bidding zone DE-LU, EUR, Europe/Berlin); `bands` is a
    list of (valid_from, valid_to, surcharge_fixed, surcharge_percentage), every day."""

    def make(
        *,
        bands: list[tuple[str, str, str, str]] | None = None,
        **fields: Any,
    ) -> Tariff:
        tariff = Tariff.objects.create(
            **{
                "name": "Dynamisch",
                "currency": "EUR",
                "timezone": "Europe/Berlin",
                "standing_charge": Decimal("0.40"),
                "pricing": Pricing.MARKET_INDEXED,
                "bidding_zone": "DE-LU",
                **fields,
            }
        )
        for valid_from, valid_to, fixed, percentage in bands or [("00:00", "24:00", "0", "0")]:
            TariffRule.objects.create(
                tariff=tariff,
                valid_from=valid_from,
                valid_to=valid_to,
                unit_rate=Decimal("0"),
                surcharge_fixed=Decimal(fixed),
                surcharge_percentage=Decimal(percentage),
            )
        return tariff

    return make


@pytest.fixture
def make_contract(
    db: Any, make_premise: Callable[..., Premise], make_tariff: Callable[..., Tariff]
) -> Callable[..., Contract]:
    def make(
        *,
        premise: Premise | None = None,
        tariff: Tariff | None = None,
        direction: str = Direction.IMPORT,
        start_at: dt.datetime | None = None,
        end_at: dt.datetime | None | str = "default",
    ) -> Contract:
        now = timezone.now()
        return Contract.objects.create(
            premise=premise or make_premise(),
            tariff=tariff or make_tariff(),
            direction=direction,
            start_at=start_at or now - dt.timedelta(days=180),
            end_at=now + dt.timedelta(days=180) if end_at == "default" else end_at,
        )

    return make


@pytest.fixture
def make_oauth_client(db: Any) -> Callable[..., tuple[OAuthClient, str]]:
    """Returns (client, plaintext secret)."""

    def make(
        *,
        client_id: str = "flatpeak",
        name: str = "FlatPeak",
        redirect_uris: list[str] | None = None,
        grant_types: list[str] | None = None,
        **fields: Any,
    ) -> tuple[OAuthClient, str]:
        secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
        client = OAuthClient.objects.create(
            client_id=client_id,
            client_secret_hash=tokens.secret_hash(secret),
            name=name,
            redirect_uris=redirect_uris or ["https://partner.example/callback"],
            grant_types=grant_types or ["authorization_code", "refresh_token"],
            scopes=["tariff:read"],
            **fields,
        )
        return client, secret

    return make


@pytest.fixture
def recording_source(settings: Any) -> Any:
    """Our database as the configured tariff source, recording each call of the interface
    (`tests.accounts.sources.recording`)."""
    from accounts.sources import tariff_source
    from tests.accounts.sources.recording import RECORDING_SOURCE, RecordingTariffSource

    settings.TARIFF_SOURCE = RECORDING_SOURCE
    source = tariff_source()
    assert isinstance(source, RecordingTariffSource)
    return source


@pytest.fixture(autouse=True)
def _enforce_environment_markers(request: pytest.FixtureRequest) -> None:
    """pytest ignores `usefixtures` marks added in pytest_collection_modifyitems (the fixture
    closure is already computed), so the postgres/browser requirements are applied here."""
    if request.node.get_closest_marker("postgres") is not None:
        request.getfixturevalue("_require_postgres")
    if request.node.get_closest_marker("browser") is not None and _env_flag("REQUIRE_CHROMIUM"):
        if not (os.path.exists(CHROMIUM_PATH) or shutil.which("chromium")):
            request.getfixturevalue("_fail_missing_chromium")


@pytest.fixture(autouse=True)
def _private_cache_namespace(settings: Any) -> None:
    """Each test counts rate limits, login ceilings and one-time codes in its own key space.

    Those counters live in the shared cache (Redis in CI, shared by parallel workers), so
    clearing it would break other workers; a fresh KEY_PREFIX per test isolates without
    clearing. Keys left behind expire on their own (every counter has a timeout).
    """
    import uuid

    default = dict(settings.CACHES["default"])
    default["KEY_PREFIX"] = f"{default.get('KEY_PREFIX', '')}t{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": default}


@pytest.fixture(autouse=True)
def _empty_tariff_bodies() -> Iterator[None]:
    """The tariff API's per-worker bodies are keyed by data versions, and database ids (and,
    under a pinned clock, timestamps) repeat between tests: every test starts without any."""
    from provider_auth.tariff_api.documents import documents
    from provider_auth.tariff_api.views import rates_bodies

    documents.clear()
    rates_bodies.clear()
    yield
    documents.clear()
    rates_bodies.clear()


REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def redis_cache(settings: Any) -> None:
    """The default cache on the real Redis at REDIS_URL, in a key space of this test's own.

    Skipped (reported, with the reason) where REDIS_URL is unset; CI sets it for the
    PostgreSQL run.
    """
    import uuid

    if not REDIS_URL:
        pytest.skip("needs REDIS_URL (CI sets it for the PostgreSQL run)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"redis-test-{uuid.uuid4().hex[:10]}",
        }
    }
