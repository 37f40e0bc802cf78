"""Consent lifecycle fields, and the data types of grants that predate them.

Before this migration `tariff:read` covered the tariff, the contract dates and the supply
address: the consent page listed all three and the tariff API served all three. Those grants,
their tokens and codes, and the clients that could ask for them, are widened to the three
data-type scopes that now name what was agreed, so FlatPeak keeps receiving what the customer
allowed. New clients registered with `tariff:read` alone get only the tariff.
"""

from django.db import migrations, models

OLD = "tariff:read"
ALL = "address:read contract:read tariff:read"


def widen(apps, schema_editor):
    for name in ("Grant", "AccessToken", "RefreshToken", "AuthorizationCode"):
        apps.get_model("oauth", name).objects.filter(scope=OLD).update(scope=ALL)
    OAuthClient = apps.get_model("oauth", "OAuthClient")
    for client in OAuthClient.objects.all():
        if client.scopes == [OLD]:
            client.scopes = ALL.split()
            client.save(update_fields=["scopes"])


def narrow(apps, schema_editor):
    for name in ("Grant", "AccessToken", "RefreshToken", "AuthorizationCode"):
        apps.get_model("oauth", name).objects.filter(scope=ALL).update(scope=OLD)
    OAuthClient = apps.get_model("oauth", "OAuthClient")
    for client in OAuthClient.objects.all():
        if sorted(client.scopes) == ALL.split():
            client.scopes = [OLD]
            client.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [
        ("oauth", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="grant",
            name="consent_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="grant",
            name="end_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("grant_revoked", "Revoked"),
                    ("grant_expired", "Expired"),
                    ("supply_ended", "Supply at the address ended"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="grant",
            name="purpose",
            field=models.CharField(default="tariff_sync", max_length=64),
        ),
        migrations.AddField(
            model_name="oauthclient",
            name="consent_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Empty: until the customer revokes it or the supply at the premise ends.",
                null=True,
                verbose_name="consent lasts (days)",
            ),
        ),
        migrations.AddField(
            model_name="oauthclient",
            name="purpose",
            field=models.CharField(
                default="tariff_sync",
                help_text="e.g. tariff_sync",
                max_length=64,
                verbose_name="purpose",
            ),
        ),
        migrations.RunPython(widen, narrow),
    ]
