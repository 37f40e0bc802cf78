"""Benchmark-only ceilings (BENCHMARK_VIEWS=true; 404 otherwise, never enabled in production).

They run through the full middleware stack, so benchmarks/ can compare our endpoints with the
most any endpoint could do on the same machine: (a) a constant JSON answer and (a′) one indexed
single-row query, the floor of any endpoint that checks a bearer token in the database.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from provider_auth.oauth.models import AccessToken


def _require_enabled() -> None:
    if not settings.BENCHMARK_VIEWS:
        raise Http404


@require_safe
def constant(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    return JsonResponse({"object": "constant", "ok": True})


@require_safe
def single_row(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    header = request.META.get("HTTP_AUTHORIZATION", "")
    digest = hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()
    row = AccessToken.objects.filter(token_hash=digest).values_list("id", flat=True).first()
    return JsonResponse({"object": "single_row", "found": row is not None})
