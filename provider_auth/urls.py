"""URL map. Each concern keeps its own urls module."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from provider_auth import views
from provider_auth.security import views as security_views

# The account site's one login is the hardened one (accounts may not import provider_auth, so it
# joins the `accounts` namespace here): lockouts, ceilings and the emailed one-time code. Staff
# log in there too: the admin's login view only redirects to it (security/admin_site.py).
account_urlpatterns = [
    path("login/", security_views.account_login, name="login"),
    *accounts_urls.urlpatterns,
]

urlpatterns = [
    path("brand.css", views.brand_css, name="brand_css"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/security/", include("provider_auth.security.urls")),
    path("account/connected-apps/", include("provider_auth.connected_apps.urls")),
    path("account/", include((account_urlpatterns, accounts_urls.app_name))),
    path("", include("provider_auth.connect.urls")),
    path("oidc/", include("provider_auth.oidc.urls")),
    path("", include("provider_auth.oauth.urls")),
    path("", include("provider_auth.tariff_api.urls")),
    path("", include("provider_auth.ops.urls")),
]
if apps.is_installed("sandbox"):
    # Routed wherever the app is installed; every sandbox view still answers 404 unless
    # SANDBOX_ENABLED (checked per request, so tests can switch it with override_settings).
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler400 = "provider_auth.views.bad_request"
handler404 = "provider_auth.views.page_not_found"
handler500 = "provider_auth.views.server_error"
