from __future__ import annotations

from django.urls import path

from provider_auth.security import views

app_name = "security"

urlpatterns = [
    path("", views.security_settings, name="settings"),
    path("one-time-code/", views.otp_verify, name="otp_verify"),
    path("one-time-code/resend/", views.otp_resend, name="otp_resend"),
    path("log-out-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("logged-out/", views.logged_out, name="logged_out"),
]
