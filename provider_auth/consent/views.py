"""The customer's downloadable record of permissions (JSON and CSV), free of charge."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from provider_auth.consent.selectors import RECORD_CSV_COLUMNS, permission_record

# A cell starting with one of these is a formula to spreadsheet programs (CSV injection); the
# partner's display name comes from upstream.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _attachment(response: HttpResponse, extension: str) -> HttpResponse:
    name = f"permissions-{timezone.now():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
@require_GET
def permission_record_json(request: HttpRequest) -> HttpResponse:
    record = permission_record(customer=cast(Any, request.user))
    body = json.dumps(record, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    return _attachment(HttpResponse(body, content_type="application/json; charset=utf-8"), "json")


@never_cache
@login_required
@require_GET
def permission_record_csv(request: HttpRequest) -> HttpResponse:
    """Every change, one row each (the JSON also lists the permissions as they stand)."""
    record = permission_record(customer=cast(Any, request.user))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RECORD_CSV_COLUMNS)
    for change in record["changes"]:
        writer.writerow([_cell(change[c]) for c in RECORD_CSV_COLUMNS])
    return _attachment(HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8"), "csv")
