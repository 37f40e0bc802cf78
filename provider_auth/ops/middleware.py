"""Request ids: accept a sane X-Request-ID from the load balancer or make one, return it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from provider_auth.ops.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        # Never trust an arbitrary header into our logs: only a plain token-like id is kept.
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset when the chain returns: Django logs 4xx/5xx responses ("django.request") after
        # the middleware chain, and that line belongs to this request too. request_finished
        # clears it once the response is closed.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="ops_request_id_clear")
def _request_id_clear(**kwargs: object) -> None:
    request_id_var.set("-")


class ProbeMiddleware:
    """Answer /healthz, /readyz and /metrics before the rest of the stack.

    Load balancers and Prometheus call by IP address over plain HTTP every few seconds: these
    requests must not fail ALLOWED_HOSTS, be redirected to HTTPS, touch a session, count
    towards a rate limit or write a log line. Each view does its own access control (/metrics).
    Sits right after RequestIdMiddleware so probes still carry an X-Request-ID.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        from provider_auth.ops import views

        self.probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/healthz": views.healthz,
            "/readyz": views.readyz,
            "/metrics": views.metrics,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.probes.get(request.path_info)
        if view is None:
            return self.get_response(request)
        response = view(request)
        response["X-Content-Type-Options"] = "nosniff"
        return response
