from __future__ import annotations

import pytest
from django.test import Client

from tests.clients import HttpsClient


@pytest.fixture
def client() -> Client:
    return HttpsClient()
