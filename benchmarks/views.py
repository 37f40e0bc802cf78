"""The ceilings the benchmarks compare our endpoints with, served only by `benchmarks.urls`.

They run through the full middleware stack, so benchmarks/ can compare our endpoints with the
most any endpoint could do on the same machine: (a) a constant JSON answer and (a′) one indexed
single-row query, the floor of any endpoint that checks a bearer token in the database. The
production URL configuration does not route them: only `benchmarks.settings` (which selects
`benchmarks.urls`) does.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from provider_auth.oauth.models import AccessToken
from provider_auth.oauth.tokens import secret_hash


@require_safe
def constant(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"object": "constant", "ok": True})


@require_safe
def single_row(request: HttpRequest) -> JsonResponse:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    digest = secret_hash(header.removeprefix("Bearer "))
    row = AccessToken.objects.filter(token_hash=digest).values_list("id", flat=True).first()
    return JsonResponse({"object": "single_row", "found": row is not None})
