"""The admin app, with the site whose login goes through the hardened account login."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class HardenedAdminConfig(AdminConfig):
    default_site = "provider_auth.security.admin_site.ProviderAdminSite"
