from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.oidc import views

app_name = "oidc"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login", views.login_start, name="login"),
    path("continue", views.continue_to_provider, name="continue"),
    path("callback", views.callback, name="callback"),
    path("backchannel-logout", views.backchannel_logout, name="backchannel_logout"),
    path("logout", views.rp_logout, name="logout"),
]
