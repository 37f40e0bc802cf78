from __future__ import annotations

from django.urls import path

from provider_auth.connected_apps import views

app_name = "connected_apps"

urlpatterns = [
    path("", views.connected_app_list, name="list"),
    path("<int:grant_id>/revoke/", views.connected_app_revoke, name="revoke"),
]
