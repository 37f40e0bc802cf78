"""Forms of the security pages (one-time code)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

_SIX_DIGITS = _("Enter the 6 digits from the email.")


class OneTimeCodeField(forms.CharField):
    def to_python(self, value: Any) -> str:
        # People paste "123 456": forgive whitespace anywhere before validating.
        return "".join(str(super().to_python(value)).split())


class OneTimeCodeForm(forms.Form):
    code = OneTimeCodeField(
        label=_("One-time code"),
        max_length=20,
        validators=[RegexValidator(r"^[0-9]{6}\Z", _SIX_DIGITS)],
        error_messages={"required": _SIX_DIGITS, "max_length": _SIX_DIGITS},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class OtpPreferenceForm(forms.Form):
    """Switch the emailed one-time code on or off; the current password confirms the change."""

    enabled = forms.BooleanField(
        label=_("Ask for a one-time code sent by email each time I log in"), required=False
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."))
        return password
