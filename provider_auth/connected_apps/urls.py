from __future__ import annotations

from django.urls import path

from provider_auth.connected_apps import views
from provider_auth.consent import views as record_views

app_name = "connected_apps"

urlpatterns = [
    path("", views.connected_app_list, name="list"),
    path("<int:grant_id>/revoke/", views.connected_app_revoke, name="revoke"),
    path("record.json", record_views.permission_record_json, name="record_json"),
    path("record.csv", record_views.permission_record_csv, name="record_csv"),
]
