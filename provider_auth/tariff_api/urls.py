from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from provider_auth.tariff_api import methods, views

app_name = "tariff_api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/tariff", views.tariff_current, name="tariff"),
    path("api/v1/tariff/rates", views.tariff_rates, name="rates"),
    path("api/openapi.json", views.openapi_document, name="openapi"),
    # Last: a client that gets a path wrong reads a JSON error, not the site's HTML 404 page.
    re_path(r"^api/", methods.api_not_found, name="not_found"),
]
