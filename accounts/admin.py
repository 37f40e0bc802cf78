"""Staff screens for customers, premises, contracts and tariffs (rules validated as a whole)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Contract,
    Premise,
    Pricing,
    Tariff,
    TariffRule,
    User,
    premise_reference_generate,
)
from accounts.price_admin import price_import_view
from accounts.tariffs import DAY_LABELS, MONTH_LABELS, tariff_rules_problems


class CustomerCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class CustomerChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class CustomerAdmin(DjangoUserAdmin):
    form = CustomerChangeForm
    add_form = CustomerCreationForm
    ordering = ("email",)
    search_fields = ("email", "full_name")
    list_display = (
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "requires_email_otp",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "requires_email_otp")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal details"), {"fields": ("full_name",)}),
        (_("Security"), {"fields": ("is_active", "requires_email_otp")}),
        (_("Staff"), {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


class ContractInlineFormSet(forms.BaseInlineFormSet):
    """Contract.clean() compares with saved contracts; this compares the submitted ones."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.instance
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and form.instance.start_at is not None
        ]
        for i, first in enumerate(kept):
            for second in kept[i + 1 :]:
                if first.direction == second.direction and first.overlaps(
                    second.start_at, second.end_at
                ):
                    raise ValidationError(
                        _(
                            "Two %(direction)s contracts overlap; a premise has at most one per "
                            "direction at any time."
                        ),
                        params={"direction": first.get_direction_display()},
                    )


class ContractInline(admin.TabularInline):
    model = Contract
    formset = ContractInlineFormSet
    extra = 0
    fields = ("direction", "tariff", "start_at", "end_at")
    show_change_link = True


@admin.register(Premise)
class PremiseAdmin(admin.ModelAdmin):
    list_display = ("reference", "customer", "address_line1", "city", "post_code", "country_code")
    list_select_related = ("customer",)
    search_fields = ("reference", "post_code", "customer__email", "address_line1")
    list_filter = ("country_code",)
    raw_id_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [ContractInline]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("reference", premise_reference_generate())
        return initial


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = (
        "premise",
        "customer_email",
        "direction",
        "tariff",
        "start_at",
        "end_at",
        "in_force",
    )
    list_select_related = ("premise__customer", "tariff")
    list_filter = ("direction", "tariff")
    search_fields = ("premise__reference", "premise__post_code", "premise__customer__email")
    raw_id_fields = ("premise",)
    date_hierarchy = "start_at"

    @admin.display(description=_("customer"), ordering="premise__customer__email")
    def customer_email(self, obj: Contract) -> str:
        return obj.premise.customer.email

    @admin.display(description=_("in force now"), boolean=True)
    def in_force(self, obj: Contract) -> bool:
        return obj.is_in_force(timezone.now())


class TariffRuleForm(forms.ModelForm):
    months = forms.TypedMultipleChoiceField(
        label=_("months"),
        coerce=int,
        choices=[(i + 1, label) for i, label in enumerate(MONTH_LABELS)],
        widget=forms.CheckboxSelectMultiple,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("days"),
        coerce=int,
        choices=list(enumerate(DAY_LABELS)),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only market-indexed tariffs use surcharges; a rule saved without them has none.
        for name in ("surcharge_fixed", "surcharge_percentage"):
            self.fields[name].required = False

    def clean_surcharge_fixed(self) -> Decimal:
        return self.cleaned_data.get("surcharge_fixed") or Decimal(0)

    def clean_surcharge_percentage(self) -> Decimal:
        return self.cleaned_data.get("surcharge_percentage") or Decimal(0)

    class Meta:
        model = TariffRule
        fields = (
            "months",
            "weekdays",
            "valid_from",
            "valid_to",
            "unit_rate",
            "tier_to_kwh",
            "surcharge_fixed",
            "surcharge_percentage",
        )


class TariffRuleFormSet(forms.BaseInlineFormSet):
    """Checks the rule set as a whole: every (month, day, minute) exactly one rate."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # field errors first; the whole-set check needs clean rules
        rules = [
            form.instance
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and form.cleaned_data
            and not form.cleaned_data.get("DELETE")
        ]
        problems = tariff_rules_problems(rules=rules)
        if problems:
            raise ValidationError(problems)


class TariffRuleInline(admin.StackedInline):
    model = TariffRule
    form = TariffRuleForm
    formset = TariffRuleFormSet
    extra = 0
    min_num = 1


class TariffForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The inline formset validates the submitted rules; the saved ones may be what is fixed.
        self.instance.rules_checked_elsewhere = True
        self.fields["pricing"].required = False  # absent: unchanged (new tariffs: schedule)

    def clean_pricing(self) -> str:
        return self.cleaned_data.get("pricing") or self.instance.pricing or Pricing.SCHEDULE

    class Meta:
        model = Tariff
        fields = (
            "name",
            "currency",
            "timezone",
            "standing_charge",
            "pricing",
            "prices_include_vat",
            "bidding_zone",
            "prices_publish_time",
        )


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffForm
    list_display = ("name", "currency", "timezone", "standing_charge", "rule_count", "updated_at")
    search_fields = ("name",)
    list_filter = ("currency",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [TariffRuleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tariff]:
        return super().get_queryset(request).prefetch_related("rules")

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(price_import_view)
        return [
            path("import-prices/", view, name="accounts_tariff_import_prices"),
            *super().get_urls(),
        ]

    @admin.display(description=_("rate rules"))
    def rule_count(self, obj: Tariff) -> int:
        return len(obj.rules.all())
