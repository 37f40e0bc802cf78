"""URL map of the connect flow. FlatPeak knows only `/flatpeak/auth`; the rest use an opaque,
browser-bound id instead of the connect token."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from provider_auth.connect import views

app_name = "connect"

urlpatterns: list[URLPattern | URLResolver] = [
    path("flatpeak/auth", views.entry, name="entry"),
    path("flatpeak/auth/s/<str:public_id>/", views.step, name="step"),
    path("flatpeak/auth/s/<str:public_id>/login", views.login_submit, name="login"),
    path("flatpeak/auth/s/<str:public_id>/address", views.address_submit, name="address"),
    path("flatpeak/auth/s/<str:public_id>/decide", views.decide_submit, name="decide"),
    path("flatpeak/auth/s/<str:public_id>/no-tariff", views.no_tariff_submit, name="no_tariff"),
    path("flatpeak/auth/s/<str:public_id>/cancel", views.cancel_submit, name="cancel"),
    path("flatpeak/auth/s/<str:public_id>/retry", views.retry_submit, name="retry"),
    path("flatpeak/auth/s/<str:public_id>/logo", views.logo, name="logo"),
    path("oauth/authorize", views.oauth_authorize, name="oauth_authorize"),
]
