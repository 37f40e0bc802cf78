from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.ops import bench, views

app_name = "ops"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    # 404 unless BENCHMARK_VIEWS (checked per request).
    path("bench/constant", bench.constant, name="bench_constant"),
    path("bench/single-row", bench.single_row, name="bench_single_row"),
]
