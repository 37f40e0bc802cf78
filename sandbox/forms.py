"""The device maker's app form: who connects, which direction, which fault to inject."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sandbox.models import Fault
from sandbox.personas import PERSONAS


class SandboxConnectForm(forms.Form):
    persona = forms.ChoiceField(
        label=_("Device maker"),
        choices=[(p.slug, p.display_name) for p in PERSONAS],
        initial=PERSONAS[0].slug,
        widget=forms.RadioSelect,
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            ("IMPORT", _("Import (electricity you buy)")),
            ("EXPORT", _("Export (electricity you sell)")),
        ],
        initial="IMPORT",
        widget=forms.RadioSelect,
    )
    fault_context = forms.ChoiceField(
        label=_("Fault on the session-context call"), choices=Fault.choices, required=False
    )
    fault_submission = forms.ChoiceField(
        label=_("Fault on the submission call"), choices=Fault.choices, required=False
    )
    fault_repeats = forms.IntegerField(
        label=_("How many calls the fault hits"),
        min_value=1,
        max_value=10,
        initial=1,
        required=False,  # empty = 1
        help_text=_("1 = only the next call; more to outlast the provider's automatic retries."),
    )
