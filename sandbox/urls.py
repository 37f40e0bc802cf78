"""The sandbox: FlatPeak's API under api/, the device maker's app, FlatPeak's connect-web page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox import views

app_name = "sandbox"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("connect-web/", views.connect_web, name="connect_web"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<str:token>.json", views.session_json, name="session_json"),
    path("sessions/<str:token>/poll", views.poll, name="poll"),
    path("sessions/<str:token>/token-checks", views.token_checks, name="token_checks"),
    # Both the contract's path and the older guide's path (FLATPEAK_SESSION_PATH may be either).
    path("api/connect/session/<str:token>", views.api_session, name="api_session"),
    path("api/connect/account-info/<str:token>", views.api_session, name="api_account_info"),
]
