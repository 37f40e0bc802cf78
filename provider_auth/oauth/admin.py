"""Admin: clients (secret shown once), grants (with a Revoke action), credentials read-only.

Token and code values do not exist server-side (only digests); the digests are not shown either.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from provider_auth.admin_readonly import ReadOnlyModelAdmin
from provider_auth.consent.scopes import PURPOSE_TARIFF_SYNC, PURPOSES
from provider_auth.oauth import tokens
from provider_auth.oauth.models import (
    AccessToken,
    AuthorizationCode,
    Grant,
    GrantStatus,
    OAuthClient,
    RefreshToken,
)
from provider_auth.oauth.scopes import SCOPES_SUPPORTED
from provider_auth.oauth.services import (
    SUPPORTED_GRANT_TYPES,
    client_secret_rotate,
    grant_revoke,
    redirect_uri_problem,
)


def _staff(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class OAuthClientForm(forms.ModelForm):
    redirect_uris_text = forms.CharField(
        label=_("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; matched exactly."),
    )
    grant_types = forms.MultipleChoiceField(
        label=_("Grant types"),
        choices=[(g, g) for g in SUPPORTED_GRANT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(s, s) for s in SCOPES_SUPPORTED],
        widget=forms.CheckboxSelectMultiple,
        initial=list(SCOPES_SUPPORTED),
    )
    # Optional in a post (older forms and scripts keep working): empty means tariff sync.
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[(key, label) for key, label in PURPOSES.items()],
        required=False,
    )

    class Meta:
        model = OAuthClient
        fields = [
            "name",
            "client_id",
            "grant_types",
            "scopes",
            "access_token_seconds",
            "refresh_idle_days",
            "refresh_absolute_days",
            "consent_days",
            "purpose",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["redirect_uris_text"].initial = "\n".join(self.instance.redirect_uris)

    def clean_redirect_uris_text(self) -> list[str]:
        uris = [
            u.strip() for u in self.cleaned_data["redirect_uris_text"].splitlines() if u.strip()
        ]
        for uri in uris:
            problem = redirect_uri_problem(uri)
            if problem:
                raise forms.ValidationError(
                    _("%(uri)s %(problem)s."), params={"uri": uri, "problem": problem}
                )
        return list(dict.fromkeys(uris))

    def clean_purpose(self) -> str:
        return self.cleaned_data.get("purpose") or PURPOSE_TARIFF_SYNC

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if "authorization_code" in cleaned.get("grant_types", []) and not cleaned.get(
            "redirect_uris_text"
        ):
            self.add_error(
                "redirect_uris_text", _("The authorization_code grant needs a redirect URI.")
            )
        return cleaned

    def save(self, commit: bool = True) -> OAuthClient:
        self.instance.redirect_uris = self.cleaned_data["redirect_uris_text"]
        return super().save(commit=commit)


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):
    form = OAuthClientForm
    list_display = ["name", "client_id", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "client_id"]
    actions = ["rotate_secret"]
    fieldsets = [
        (None, {"fields": ["name", "client_id", "is_active"]}),
        (_("Access"), {"fields": ["redirect_uris_text", "grant_types", "scopes"]}),
        (
            _("Lifetimes (empty = settings)"),
            {"fields": ["access_token_seconds", "refresh_idle_days", "refresh_absolute_days"]},
        ),
        (_("Consent"), {"fields": ["purpose", "consent_days"]}),
    ]

    def save_model(self, request: HttpRequest, obj: OAuthClient, form: Any, change: bool) -> None:
        if not change:
            secret = tokens.secret_generate(tokens.CLIENT_SECRET_PREFIX)
            obj.client_secret_hash = tokens.secret_hash(secret)
            request._oauth_client_secret = secret  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def _secret_page(self, request: HttpRequest, client: OAuthClient, secret: str) -> HttpResponse:
        response = TemplateResponse(
            request,
            "oauth/admin/client_secret.html",
            {
                **self.admin_site.each_context(request),
                "client": client,
                "secret": secret,
                "done_url": reverse("admin:oauth_oauthclient_change", args=[client.pk]),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def response_add(
        self, request: HttpRequest, obj: OAuthClient, post_url_continue: Any = None
    ) -> HttpResponse:
        # Shown once, in this response only: never in a message, cookie, session or URL.
        return self._secret_page(request, obj, request._oauth_client_secret)  # type: ignore[attr-defined]

    @admin.action(description=_("Rotate the client secret (the old one stops working)"))
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[OAuthClient]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one client."), messages.ERROR)
            return None
        client = queryset.get()
        secret = client_secret_rotate(client=client, actor=_staff(request))
        return self._secret_page(request, client, secret)


@admin.register(Grant)
class GrantAdmin(ReadOnlyModelAdmin):
    list_display = [
        "pk",
        "display_name",
        "client",
        "premise",
        "customer",
        "status",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["status", "client"]
    search_fields = ["customer__email", "premise__reference", "client__client_id"]
    list_select_related = ["client", "premise", "customer"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the action; every field is read-only.
        return request.user.has_perm("oauth.change_grant")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Grant._meta.fields]

    @admin.action(description=_("Revoke selected grants (tokens stop working at once)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        count = 0
        for grant in queryset.exclude(status=GrantStatus.REVOKED):
            grant_revoke(grant=grant, reason="admin_revoked", actor=_staff(request))
            count += 1
        self.message_user(
            request,
            ngettext("%d grant revoked.", "%d grants revoked.", count) % count,
            messages.SUCCESS,
        )


class _CredentialAdmin(ReadOnlyModelAdmin):
    list_display = ["pk", "grant", "created_at", "expires_at"]
    list_select_related = ["grant", "grant__client", "grant__premise"]
    search_fields = ["grant__pk"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(f.name for f in self.model._meta.fields if not f.name.endswith("_hash"))


@admin.register(AccessToken)
class AccessTokenAdmin(_CredentialAdmin):
    list_display = [*_CredentialAdmin.list_display, "revoked_at"]


@admin.register(RefreshToken)
class RefreshTokenAdmin(_CredentialAdmin):
    list_display = [*_CredentialAdmin.list_display, "used_at", "revoked_at"]


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(_CredentialAdmin):
    list_display = [*_CredentialAdmin.list_display, "used_at"]
