from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from accounts import views

app_name = "accounts"

# No login here: `accounts:login` is the hardened login of provider_auth.security, added to this
# namespace where the project mounts it (provider_auth/urls.py), so there is one login route.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home_view, name="home"),
    path("logout/", views.logout_view, name="logout"),
]
