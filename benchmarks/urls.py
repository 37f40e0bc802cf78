"""The benchmark URL configuration: the project's URLs plus the `/bench/` ceilings.

Selected by `benchmarks.settings` (ROOT_URLCONF); production never routes `/bench/`.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from benchmarks import views

# The ceilings come after the project's URLs, so resolving them walks the same patterns as
# resolving an API path does (and as when they were routed among the project's own).
urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("provider_auth.urls")),
    path("bench/constant", views.constant, name="bench_constant"),
    path("bench/single-row", views.single_row, name="bench_single_row"),
]

handler400 = "provider_auth.views.bad_request"
handler404 = "provider_auth.views.page_not_found"
handler500 = "provider_auth.views.server_error"
