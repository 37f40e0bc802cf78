"""Price series: a tariff's published prices, a bidding zone's wholesale prices, and their days.

One row per interval, so years of 15-minute prices for hundreds of tariffs stay plain rows: the
unique constraint on (tariff, region, valid_from) — (zone, valid_from) for wholesale prices — is
also the index a range query walks in one scan. A `PricePublication` records each local day that
was published: when, and how many times (its version moves ETags when a day is re-published).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.bidding_zones import validate_bidding_zone


class PublishedPrice(models.Model):
    """The unit rate of one interval of a published-prices tariff, in major units per kWh.

    `region` is blank unless the provider prices by region. `value` may be negative.
    """

    tariff = models.ForeignKey(
        "accounts.Tariff",
        on_delete=models.CASCADE,
        related_name="published_prices",
        verbose_name=_("tariff"),
    )
    region = models.CharField(_("region"), max_length=32, blank=True, default="")
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("to"))
    value = models.DecimalField(_("unit rate per kWh"), max_digits=12, decimal_places=6)
    published_at = models.DateTimeField(_("published"))

    class Meta:
        verbose_name = _("published price")
        verbose_name_plural = _("published prices")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "region", "valid_from"], name="accounts_published_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__gt=models.F("valid_from")),
                name="accounts_published_price_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.valid_from.isoformat()} {self.value}"


class WholesalePrice(models.Model):
    """A bidding zone's day-ahead price for one interval, as published (per MWh, `currency`)."""

    zone = models.CharField(_("bidding zone"), max_length=16, validators=[validate_bidding_zone])
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("to"))
    price = models.DecimalField(_("price per MWh"), max_digits=12, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    published_at = models.DateTimeField(_("published"))

    class Meta:
        verbose_name = _("wholesale price")
        verbose_name_plural = _("wholesale prices")
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "valid_from"], name="accounts_wholesale_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__gt=models.F("valid_from")),
                name="accounts_wholesale_price_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.valid_from.isoformat()} {self.price} {self.currency}/MWh"


class PricePublication(models.Model):
    """One local day of a price series as last published: exactly one of `tariff` or `zone`."""

    tariff = models.ForeignKey(
        "accounts.Tariff",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="price_publications",
        verbose_name=_("tariff"),
    )
    region = models.CharField(_("region"), max_length=32, blank=True, default="")
    zone = models.CharField(_("bidding zone"), max_length=16, blank=True, default="")
    day = models.DateField(_("day (local)"))
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("to"))
    intervals = models.PositiveIntegerField(_("intervals"))
    published_at = models.DateTimeField(_("published"))
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("price publication")
        verbose_name_plural = _("price publications")
        ordering = ["-day"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(tariff__isnull=False) & models.Q(zone=""))
                | (models.Q(tariff__isnull=True) & ~models.Q(zone="")),
                name="accounts_price_publication_one_series",
            ),
            models.UniqueConstraint(
                fields=["tariff", "region", "day"],
                condition=models.Q(tariff__isnull=False),
                name="accounts_price_publication_tariff_day_unique",
            ),
            models.UniqueConstraint(
                fields=["zone", "day"],
                condition=models.Q(tariff__isnull=True),
                name="accounts_price_publication_zone_day_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff_id or self.zone} {self.day.isoformat()} v{self.version}"
