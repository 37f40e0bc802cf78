"""What a locked-out customer sees: the login page's generic message, still with Cancel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def lockout_response(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    return TemplateResponse(request, "errors/locked_out.html", status=429)
