"""OAuth endpoints: token, revocation, introspection, server metadata. Thin: Authlib does the work.

The POST endpoints are called server-to-server with client credentials, never with cookies, so
CSRF protection does not apply (and would break every client). Each is rate limited per client
id and per IP (RATE_LIMIT_TOKEN_PER_MINUTE, provider_auth.oauth.front_door).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from provider_auth.oauth.front_door import oauth_rate_limited
from provider_auth.oauth.selectors import server_metadata
from provider_auth.oauth.server import endpoint_response, token_response
from provider_auth.tariff_api.methods import read_only_endpoint


@csrf_exempt
@require_POST
@oauth_rate_limited
def token(request: HttpRequest) -> HttpResponse:
    return token_response(request)


@csrf_exempt
@require_POST
@oauth_rate_limited
def revoke(request: HttpRequest) -> HttpResponse:
    return endpoint_response(request, endpoint="revocation")


@csrf_exempt
@require_POST
@oauth_rate_limited
def introspect(request: HttpRequest) -> HttpResponse:
    return endpoint_response(request, endpoint="introspection")


@read_only_endpoint
def metadata(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(server_metadata())
    response["Cache-Control"] = "public, max-age=3600"
    return response
