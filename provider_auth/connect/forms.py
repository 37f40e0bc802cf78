"""Forms of the connect flow. The login form is the provider site's own (accounts.forms)."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Premise


class PremiseChoiceForm(forms.Form):
    """One radio button per eligible supply point, labelled with its address."""

    premise = forms.ChoiceField(
        label=_("Supply address"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the address whose tariff you want to share.")},
    )

    def __init__(self, *args: object, premises: Iterable[Premise], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["premise"].choices = [  # type: ignore[attr-defined]
            (p.reference, p.one_line_address) for p in premises
        ]
