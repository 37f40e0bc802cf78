"""Replays recorded Kraken answers (fixtures/kraken/) with `responses`.

GraphQL answers are keyed by operation name (and, for account reads, the account number):
`graphql/<Operation>.<account>.json`; a test may queue other answers per operation
(`replay.queue("AccountSupplyPoints", "expired-token")`). REST pages are keyed by tariff code,
kind and the local day asked for: `rest/<code>/<kind>/<YYYY-MM-DD>.json` (`.page2.json` for the
page a `next` link leads to), or `any.json` when the answer is the same whatever the day (rows
valid for months). Every request is checked as Kraken would: GraphQL calls other than
obtainKrakenToken must carry the token; the token is never bought with a password.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import responses

FIXTURES = Path(__file__).parent / "fixtures" / "kraken"
GRAPHQL_URL = "https://api.kraken.test/v1/graphql/"
REST_URL = "https://api.kraken.test/v1"
_REST_PATH = re.compile(
    r"^/v1/products/[^/]+/electricity-tariffs/(?P<code>[^/]+)/(?P<kind>[^/]+)/$"
)

Answer = tuple[int, dict[str, str], str]


def fixture(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text())


def account_fixture(number: str) -> Any:
    """The recorded AccountSupplyPoints answer for an account number (Kraken's "not found"
    answer for a number no fixture names)."""
    path = FIXTURES / f"graphql/AccountSupplyPoints.{number}.json"
    if path.is_file() and path.parent == FIXTURES / "graphql":
        return json.loads(path.read_text())
    return fixture("graphql/AccountSupplyPoints.not-found.json")


def rest_page(*, path: str, query: str) -> tuple[int, str]:
    """(status, body) of the products API for a request path and query string, from the
    recorded pages: the local day's page (or page 2), `any.json`, an empty page for a day not
    published yet, or 404 for a tariff and kind never recorded."""
    match = _REST_PATH.match(path)
    if match is None:
        return 404, json.dumps({"detail": "Not found."})
    params = parse_qs(query)
    code, kind = match["code"], match["kind"]
    period_from = dt.datetime.fromisoformat(params["period_from"][0].replace("Z", "+00:00"))
    day = period_from.astimezone(ZoneInfo("Europe/London")).date()
    suffix = ".page2" if params.get("page") == ["2"] else ""
    directory = FIXTURES / "rest" / code / kind
    if directory.parent.parent != FIXTURES / "rest":
        return 404, json.dumps({"detail": "Not found."})
    for name in (f"{day.isoformat()}{suffix}.json", "any.json"):
        if (directory / name).is_file():
            return 200, (directory / name).read_text()
    if directory.is_dir():  # a day not (yet) published: no rows
        return 200, json.dumps({"count": 0, "next": None, "previous": None, "results": []})
    return 404, json.dumps({"detail": "Not found."})


class KrakenReplay:
    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.queued: dict[str, deque[str | Callable[[], Answer]]] = defaultdict(deque)
        self.token_exp: int | None = None
        self.tokens_issued = 0
        self.graphql_calls: list[dict[str, Any]] = []
        self.rest_calls: list[str] = []
        self.rest_failures: deque[Callable[[], Answer]] = deque()
        mock.add_callback(responses.POST, GRAPHQL_URL, callback=self._graphql)
        mock.add_callback(
            responses.GET, re.compile(re.escape(REST_URL) + r"/products/.*"), callback=self._rest
        )

    def queue(self, operation: str, *answers: str | Callable[[], Answer]) -> None:
        """The next answers to `operation`: a fixture suffix or a callable making one."""
        self.queued[operation].extend(answers)

    def fail_rest(self, *answers: Callable[[], Answer]) -> None:
        self.rest_failures.extend(answers)

    def _graphql(self, request: Any) -> Answer:
        body = json.loads(request.body)
        operation = body.get("operationName", "")
        self.graphql_calls.append(
            {"operation": operation, "authorization": request.headers.get("Authorization")}
        )
        if operation == "ObtainKrakenToken":
            given = body["variables"]["input"]
            assert "password" not in given and "email" not in given  # noqa: S101
            assert set(given) <= {"organizationSecretKey", "APIKey"}  # noqa: S101
        elif request.headers.get("Authorization") is None:
            return (
                200,
                {},
                json.dumps(
                    {
                        "data": None,
                        "errors": [
                            {
                                "message": "no token",
                                "extensions": {
                                    "errorType": "AUTHORIZATION",
                                    "errorCode": "KT-CT-1112",
                                },
                            }
                        ],
                    }
                ),
            )
        if self.queued[operation]:
            answer = self.queued[operation].popleft()
            if callable(answer):
                return answer()
            data = fixture(f"graphql/{operation}.{answer}.json")
        elif operation == "AccountSupplyPoints":
            data = account_fixture(body["variables"]["accountNumber"])
        else:
            data = fixture(f"graphql/{operation}.json")
        if operation == "ObtainKrakenToken" and data.get("data", {}).get("obtainKrakenToken"):
            self.tokens_issued += 1
            node = data["data"]["obtainKrakenToken"]
            node["token"] = f"{node['token']}-{self.tokens_issued}"
            if self.token_exp is not None:
                node["payload"]["exp"] = self.token_exp
        return 200, {"Content-Type": "application/json"}, json.dumps(data)

    def _rest(self, request: Any) -> Answer:
        self.rest_calls.append(request.url)
        if self.rest_failures:
            return self.rest_failures.popleft()()
        parts = urlsplit(request.url)
        assert _REST_PATH.match(parts.path) is not None, request.url  # noqa: S101
        status, body = rest_page(path=parts.path, query=parts.query)
        return status, {"Content-Type": "application/json"}, body
