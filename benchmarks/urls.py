"""The benchmark URL configuration: the project's URLs plus the `/bench/` ceilings.

Selected by `benchmarks.settings` (ROOT_URLCONF); production never routes `/bench/`.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from benchmarks import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/constant", views.constant, name="bench_constant"),
    path("bench/single-row", views.single_row, name="bench_single_row"),
    path("", include("provider_auth.urls")),
]

handler400 = "provider_auth.views.bad_request"
handler404 = "provider_auth.views.page_not_found"
handler500 = "provider_auth.views.server_error"
