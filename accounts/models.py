"""The energy provider's own world: customers, supply points, tariffs and contracts.

This app never imports `provider_auth`; the FlatPeak side reads it through
`accounts.selectors` and writes through `accounts.services`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import validators
from accounts.bidding_zones import validate_bidding_zone
from accounts.tariffs import tariff_rules_validate


class Direction(models.TextChoices):
    IMPORT = "IMPORT", _("Import")
    EXPORT = "EXPORT", _("Export")


class Pricing(models.TextChoices):
    """How a tariff's unit rates are known: rules, a published series, or wholesale plus surcharges."""

    SCHEDULE = "schedule", _("Schedule (fixed, time of use, tiers)")
    PUBLISHED = "published", _("Published prices per interval")
    MARKET_INDEXED = "market_indexed", _("Market-indexed (wholesale price plus surcharges)")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # Email logins are case-insensitive: "Alice@Example.com" is alice@example.com.
        return self.get(email__iexact=username or "")

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A provider account holder (customer) or a member of staff. The login is the email."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # The provider's own customer number: how a login at its identity provider (an
    # `account_number` claim) finds this customer. Optional; unique when set.
    account_number = models.CharField(
        _("account number"), max_length=64, unique=True, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    # Optional second factor: a one-time code emailed at login, chosen by the customer.
    requires_email_otp = models.BooleanField(_("require an emailed one-time code"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


def premise_reference_generate() -> str:
    """A stable public reference such as PRM-482913; never derived from the database id."""
    return f"PRM-{secrets.randbelow(10**6):06d}"


class Premise(models.Model):
    """A supply point: where the meter is. Address fields are exactly FlatPeak's."""

    customer = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="premises", verbose_name=_("customer")
    )
    reference = models.CharField(
        _("reference"),
        max_length=32,
        unique=True,
        validators=[validators.validate_premise_reference],
        help_text=_("Stable public reference, e.g. PRM-000123."),
    )
    address_line1 = models.CharField(_("address line 1"), max_length=200)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state or county"), max_length=100, blank=True)
    post_code = models.CharField(_("post code"), max_length=20)
    country_code = models.CharField(
        _("country"), max_length=2, validators=[validators.validate_country_code]
    )
    meter_point_number = models.CharField(_("meter point number"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("premise")
        verbose_name_plural = _("premises")
        ordering = ["reference"]
        indexes = [models.Index(fields=["post_code"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.one_line_address}"

    @property
    def one_line_address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.city, self.post_code]
        return ", ".join(p for p in parts if p)

    def postal_address(self) -> dict[str, str]:
        """The address exactly as FlatPeak's `postal_address` object."""
        return {
            "address_line1": self.address_line1,
            "address_line2": self.address_line2,
            "city": self.city,
            "state": self.state,
            "post_code": self.post_code,
            "country_code": self.country_code,
        }


class Tariff(models.Model):
    """A product the provider sells. Its rules must cover every instant of the week once."""

    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(
        _("currency"), max_length=3, validators=[validators.validate_currency_code]
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, validators=[validators.validate_timezone_name]
    )
    standing_charge = models.DecimalField(
        _("standing charge per day"), max_digits=10, decimal_places=4
    )
    pricing = models.CharField(
        _("pricing"), max_length=16, choices=Pricing.choices, default=Pricing.SCHEDULE
    )
    # Retail unit rates in Great Britain and the EU are quoted to households with VAT, and the
    # rates entered before this flag existed are the ones shown to customers: default True.
    prices_include_vat = models.BooleanField(_("prices include VAT"), default=True)
    bidding_zone = models.CharField(
        _("bidding zone"),
        max_length=16,
        blank=True,
        validators=[validate_bidding_zone],
        help_text=_("Wholesale market of a market-indexed tariff, e.g. DE-LU, NL or GB."),
    )
    prices_publish_time = models.TimeField(
        _("next day's prices published at (local)"),
        null=True,
        blank=True,
        help_text=_("When tomorrow's prices usually appear, e.g. 16:00; empty: the default."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set by the admin formset, the importer and tariff_save_with_rules, which validate the new
    # rule set themselves: the saved rules are about to be replaced.
    rules_checked_elsewhere = False

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.pricing == Pricing.MARKET_INDEXED and not self.bidding_zone:
            raise ValidationError(
                {"bidding_zone": _("A market-indexed tariff needs its bidding zone.")}
            )
        if self.pk is not None and not self.rules_checked_elsewhere:
            tariff_rules_validate(rules=self.rules.all())


class TariffRule(models.Model):
    """One rate for a set of months, a set of weekdays and a local wall-clock window.

    `months` is a list of 1–12, `weekdays` a list of 0 (Monday)–6 (Sunday). The window is
    "HH:MM" local time; `valid_to` may be "24:00" (midnight at the end of the day) and is always
    later than `valid_from` — a window crossing midnight is written as two rules. Several rules
    may share one window only as consumption tiers (distinct `tier_to_kwh`, exactly one open).
    """

    tariff = models.ForeignKey(
        Tariff, on_delete=models.CASCADE, related_name="rules", verbose_name=_("tariff")
    )
    months = models.JSONField(_("months"), default=validators.all_months)
    weekdays = models.JSONField(_("days"), default=validators.all_weekdays)
    valid_from = models.CharField(
        _("from (local)"), max_length=5, validators=[validators.validate_wall_clock]
    )
    valid_to = models.CharField(
        _("to (local)"), max_length=5, validators=[validators.validate_wall_clock]
    )
    unit_rate = models.DecimalField(_("unit rate per kWh"), max_digits=10, decimal_places=4)
    tier_to_kwh = models.DecimalField(
        _("tier ceiling (kWh)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    # Market-indexed tariffs only (unit_rate is then ignored): see accounts.prices.market_rate.
    surcharge_fixed = models.DecimalField(
        _("surcharge per kWh"), max_digits=10, decimal_places=6, default=0
    )
    surcharge_percentage = models.DecimalField(
        _("surcharge percentage"),
        max_digits=7,
        decimal_places=5,
        default=0,
        help_text=_("A fraction: 0.05 is 5 %, applied after the fixed surcharge."),
    )

    class Meta:
        verbose_name = _("rate rule")
        verbose_name_plural = _("rate rules")
        ordering = ["tariff_id", "valid_from", "id"]

    def __str__(self) -> str:
        return f"{self.valid_from}–{self.valid_to} @ {self.unit_rate}"

    def clean(self) -> None:
        super().clean()
        validators.validate_months(self.months)
        validators.validate_weekdays(self.weekdays)
        if self.valid_from == "24:00":
            raise ValidationError({"valid_from": _("A window cannot start at 24:00.")})
        if (
            self.valid_from
            and self.valid_to
            and validators.wall_clock_minutes(self.valid_to)
            <= validators.wall_clock_minutes(self.valid_from)
        ):
            raise ValidationError(
                {"valid_to": _("The window must end after it starts (use 24:00 for midnight).")}
            )


def contract_in_force_q(at: dt.datetime, *, prefix: str = "") -> models.Q:
    """Contracts in force at `at`: started at or before it, not ended by it (`end_at` is the
    exclusive end; null is open). `prefix` reaches contracts through a relation, e.g.
    `"contracts__"` from a premise, for a query that must stay one join."""
    return models.Q(**{f"{prefix}start_at__lte": at}) & (
        models.Q(**{f"{prefix}end_at__isnull": True}) | models.Q(**{f"{prefix}end_at__gt": at})
    )


def contract_overlapping_q(
    start: dt.datetime, end: dt.datetime | None, *, prefix: str = ""
) -> models.Q:
    """Contracts in force at some instant of [start, end): `end` None is an open range, and
    `end == start` asks for the contract in force at that instant (`contract_in_force_q`)."""
    if end is not None and end == start:
        return contract_in_force_q(start, prefix=prefix)
    not_ended = models.Q(**{f"{prefix}end_at__isnull": True}) | models.Q(
        **{f"{prefix}end_at__gt": start}
    )
    if end is None:
        return not_ended
    return models.Q(**{f"{prefix}start_at__lt": end}) & not_ended


class ContractQuerySet(models.QuerySet["Contract"]):
    def in_force(self, at: dt.datetime) -> ContractQuerySet:
        """The contracts in force at the instant `at`."""
        return self.filter(contract_in_force_q(at))

    def overlapping(self, start: dt.datetime, end: dt.datetime | None) -> ContractQuerySet:
        """The contracts in force at some instant of [start, end) (`end` None: open-ended)."""
        return self.filter(contract_overlapping_q(start, end))


class Contract(models.Model):
    """A premise's tariff in one direction for a period. At most one is active at any instant."""

    premise = models.ForeignKey(
        Premise, on_delete=models.CASCADE, related_name="contracts", verbose_name=_("premise")
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("tariff")
    )
    direction = models.CharField(
        _("direction"), max_length=6, choices=Direction.choices, default=Direction.IMPORT
    )
    start_at = models.DateTimeField(_("starts"))
    end_at = models.DateTimeField(_("ends"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["premise_id", "direction", "start_at"]
        indexes = [models.Index(fields=["premise", "direction", "start_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__isnull=True) | models.Q(end_at__gt=models.F("start_at")),
                name="accounts_contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.premise.reference} {self.direction} {self.tariff.name}"

    def is_in_force(self, at: dt.datetime) -> bool:
        """`Contract.objects.in_force(at)` for one contract in memory (saved or not)."""
        return self.start_at <= at and (self.end_at is None or self.end_at > at)

    def overlaps(self, start: dt.datetime, end: dt.datetime | None) -> bool:
        """`Contract.objects.overlapping(start, end)` for one contract in memory (start < end)."""
        return (self.end_at is None or self.end_at > start) and (end is None or self.start_at < end)

    def overlapping_contracts(self) -> models.QuerySet[Contract]:
        """Other contracts of this premise and direction in force at some instant of this one."""
        others = Contract.objects.filter(
            premise_id=self.premise_id, direction=self.direction
        ).overlapping(self.start_at, self.end_at)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        return others.order_by("start_at")

    def clean(self) -> None:
        super().clean()
        if self.start_at is None:
            return
        if self.end_at is not None and self.end_at <= self.start_at:
            raise ValidationError({"end_at": _("A contract must end after it starts.")})
        if self.premise_id is None:
            return
        clash = self.overlapping_contracts().first()
        if clash is not None:
            raise ValidationError(
                _(
                    "This premise already has a %(direction)s contract in force from %(start)s "
                    "to %(end)s; a premise has at most one contract per direction at any time."
                ),
                code="contract_overlap",
                params={
                    "direction": self.get_direction_display(),
                    "start": clash.start_at.date().isoformat(),
                    "end": clash.end_at.date().isoformat() if clash.end_at else _("open end"),
                },
            )


# The price series live in their own module; importing them here registers them with the app.
from accounts.price_models import (  # noqa: E402, F401
    PricePublication,
    PublishedPrice,
    WholesalePrice,
)
