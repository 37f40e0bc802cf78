from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.oauth import views

app_name = "oauth"

urlpatterns: list[URLPattern | URLResolver] = [
    path("oauth/token", views.token, name="token"),
    path("oauth/revoke", views.revoke, name="revoke"),
    path("oauth/introspect", views.introspect, name="introspect"),
    path(".well-known/oauth-authorization-server", views.metadata, name="metadata"),
]
