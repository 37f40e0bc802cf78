"""Staff upload of price files from the admin: the same importer and messages as import_prices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect

from accounts.bidding_zones import BIDDING_ZONES
from accounts.models import Pricing, Tariff
from accounts.price_import import PriceImportInvalid, price_import_target, prices_import


class PriceImportForm(forms.Form):
    file = forms.FileField(label=_("price file"))
    file_format = forms.ChoiceField(
        label=_("format"),
        choices=[
            ("entsoe", _("ENTSO-E day-ahead prices (XML, per MWh) — bidding zone")),
            ("octopus", _("Octopus unit rates (JSON, pence per kWh) — tariff")),
            ("csv", _("CSV valid_from,valid_to,value — tariff (per kWh) or zone (per MWh)")),
        ],
    )
    tariff = forms.ModelChoiceField(
        label=_("tariff"),
        queryset=Tariff.objects.filter(pricing=Pricing.PUBLISHED),
        required=False,
    )
    zone = forms.ChoiceField(
        label=_("bidding zone"),
        choices=[("", "—")] + [(code, code) for code in BIDDING_ZONES],
        required=False,
    )
    dry_run = forms.BooleanField(label=_("check only, store nothing"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if bool(cleaned.get("tariff")) == bool(cleaned.get("zone")):
            raise ValidationError(_("Choose either a tariff or a bidding zone."))
        upload = cleaned.get("file")
        if upload is not None and upload.size > settings.PRICES_IMPORT_MAX_BYTES:
            raise ValidationError(_("The file is too large."))
        return cleaned


@csrf_protect
@staff_member_required
def price_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a price file; errors are listed as the command lists them, nothing stored."""
    if not request.user.has_perm("accounts.change_tariff"):
        raise PermissionDenied
    errors: list[str] = []
    form = PriceImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target = price_import_target(tariff=data["tariff"], zone=data["zone"] or None)
            result = prices_import(
                data=data["file"].read(),
                file_format=data["file_format"],
                target=target,
                dry_run=data["dry_run"],
            )
        except PriceImportInvalid as e:
            errors = e.errors
        else:
            days = ", ".join(day.isoformat() for day in result.days)
            if result.dry_run:
                message = _("Checked %(count)s intervals (%(days)s); nothing was stored.")
            else:
                message = _("Imported %(count)s intervals (%(days)s).")
            messages.success(request, message % {"count": result.intervals, "days": days})
            return HttpResponseRedirect(reverse("admin:accounts_tariff_import_prices"), status=303)
    context = {
        **admin.site.each_context(request),
        "title": _("Import prices"),
        "form": form,
        "errors": errors,
    }
    return TemplateResponse(request, "admin/accounts/tariff/import_prices.html", context)
