from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "tariff_api"

urlpatterns: list[URLPattern | URLResolver] = []
