"""The tariff document's version (its ETag) and an in-process cache of serialised documents.

FlatPeak polls: most requests ask "has it changed?". The ETag is therefore derived from the
*versions* of what the document is made of — known after the token query — rather than from the
serialised body, so If-None-Match is decided before the rules are loaded or anything is
serialised. Every stored value the body shows is in the version: the contract's id, dates,
direction and `updated_at`; the tariff's id, fields and `updated_at` (which every write of its
rule set bumps); for a published or market-indexed tariff, the publication state of its price
series (`sql.PUBLICATION_TAG`: days, versions, newest publication — moves exactly when a day is
(re)published; read in the same
query, so a 304 stays one query); the premise's reference, address and `updated_at`; the format;
and the version of the document's wire format, `DOCUMENT_SCHEMA_VERSION`. Anything else would
serve a stale 304.

The wire format is a declared constant, not a digest of the serialisers' source or of anything
`repr()` shows: every host and every worker must compute the same ETag for the same data (a
fleet behind a load balancer, a rolling deploy), and a comment edit must not make FlatPeak
download every tariff again. The price is discipline: a change to what the body shows bumps it.

A 200 for a version this worker has already written is served from a small LRU of bodies keyed
by ETag. It needs no invalidation: a change makes a new version, and old ones age out. Each
worker keeps its own (≤ `CACHE_SIZE` bodies of ~1–2 kB); identical versions give identical
ETags in every worker, because the ETag is a pure function of stored data.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import Contract
from accounts.price_selectors import PublicationState
from accounts.prices import PriceSeries
from provider_auth.oauth.scopes import ADDRESS_READ, CONTRACT_READ, SCOPES_SUPPORTED
from provider_auth.tariff_api.formats import tariff_to_flatpeak, tariff_to_provider_json

# The document's wire format. Bump it in the same commit as any change to the bytes a stored
# tariff renders to: a field added, renamed or reformatted here, in
# `formats.tariff_to_provider_json` / `tariff_to_flatpeak`, or in
# `Premise.postal_address`. Otherwise clients keep a stale body on a 304. The tariff API tests
# pin each format's field layout per version, so a new or renamed field cannot slip through.
DOCUMENT_SCHEMA_VERSION = 2
CACHE_SIZE = 1024
Body = TypeVar("Body")
FULL_SCOPE = " ".join(SCOPES_SUPPORTED)


def _iso(value: Any) -> str:
    return "" if value is None else value.isoformat()


def document_withheld(scope: str) -> tuple[str, ...]:
    """The data types `scope` does not cover, in a fixed order."""
    granted = set(scope.split())
    return tuple(s for s in (CONTRACT_READ, ADDRESS_READ) if s not in granted)


def document_scope_filter(body: dict[str, Any], *, scope: str) -> dict[str, Any]:
    """`body` (either format) without what `scope` does not cover: the contract dates without
    `contract:read`, the postal address without `address:read` (the premise reference stays:
    it names the supply point the grant is for, which the partner already holds)."""
    withheld = document_withheld(scope)
    if CONTRACT_READ in withheld:
        body.pop("contract_start_date", None)
        body.pop("contract_end_date", None)
    if ADDRESS_READ in withheld and isinstance(body.get("premise"), dict):
        body["premise"] = {k: v for k, v in body["premise"].items() if k != "postal_address"}
    return body


def tariff_document_render(
    *,
    contract: Contract,
    output: str,
    scope: str = FULL_SCOPE,
    publication: PublicationState | PriceSeries | None = None,
) -> bytes:
    """The JSON body of the tariff document (`contract` with its tariff and rules loaded), with
    only the data types `scope` covers; `publication`: its price series' state, for a published
    or market-indexed tariff."""
    if output == "flatpeak":
        body = {
            "object": "tariff",
            **tariff_to_flatpeak(contract=contract, publication=publication),
        }
    else:
        body = {
            "object": "tariff",
            **tariff_to_provider_json(contract=contract, publication=publication),
        }
    body = document_scope_filter(body, scope=scope)
    return json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


class DocumentCache(Generic[Body]):
    """A bounded LRU of bodies by key (an ETag, a version), safe under threaded workers."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, Body] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> Body | None:
        with self._lock:
            body = self._items.get(etag)
            if body is not None:
                self._items.move_to_end(etag)
            return body

    def put(self, etag: str, body: Body) -> None:
        with self._lock:
            self._items[etag] = body
            self._items.move_to_end(etag)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


documents: DocumentCache[bytes] = DocumentCache(CACHE_SIZE)
