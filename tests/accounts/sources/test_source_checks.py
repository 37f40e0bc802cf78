"""TARIFF_SOURCE is validated at startup: a source that cannot answer stops the server."""

from __future__ import annotations

from typing import Any

from accounts.sources.checks import check_tariff_source


class NotASource:
    def supply_points(self) -> None: ...


def _ids(settings: Any) -> list[str]:
    return [m.id for m in check_tariff_source()]


def test_the_default_local_source_passes(settings: Any) -> None:
    settings.TARIFF_SOURCE = "accounts.sources.local.LocalTariffSource"
    assert _ids(settings) == []


def test_a_source_that_cannot_be_imported_is_an_error(settings: Any) -> None:
    settings.TARIFF_SOURCE = "accounts.sources.nowhere.Missing"
    assert _ids(settings) == ["accounts.E001"]


def test_a_class_not_implementing_the_interface_is_an_error(settings: Any) -> None:
    settings.TARIFF_SOURCE = f"{__name__}.NotASource"
    [message] = check_tariff_source()
    assert message.id == "accounts.E002"
    assert "contract_in_force" in message.msg


def test_the_kraken_source_needs_a_credential_and_https(settings: Any) -> None:
    settings.TARIFF_SOURCE = "accounts.sources.kraken.KrakenTariffSource"
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = ""
    settings.KRAKEN_API_KEY = ""
    settings.KRAKEN_GRAPHQL_URL = "http://kraken.example/v1/graphql/"
    settings.KRAKEN_REST_URL = "https://kraken.example/v1"
    settings.DEBUG = False
    assert _ids(settings) == ["accounts.E003", "accounts.E004"]
    settings.KRAKEN_ORGANIZATION_SECRET_KEY = "sk_x"  # noqa: S105
    settings.KRAKEN_GRAPHQL_URL = "https://kraken.example/v1/graphql/"
    assert _ids(settings) == []
