from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.tariff_api import views

app_name = "tariff_api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/tariff", views.tariff_current, name="tariff"),
    path("api/v1/tariff/rates", views.tariff_rates, name="rates"),
    path("api/openapi.json", views.openapi_document, name="openapi"),
]
