from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.timefmt import rfc3339


@pytest.mark.spec("RFC3339 5.6")
def test_an_instant_is_written_in_utc_with_z_to_the_second() -> None:
    local = dt.datetime(2026, 3, 29, 2, 30, 15, 999_999, tzinfo=ZoneInfo("Europe/London"))
    assert rfc3339(local) == "2026-03-29T01:30:15Z"


def test_no_instant_stays_none() -> None:
    assert rfc3339(None) is None
