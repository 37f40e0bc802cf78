from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.ops import views

app_name = "ops"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
