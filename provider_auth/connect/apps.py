from django.apps import AppConfig


class ConnectConfig(AppConfig):
    """The FlatPeak connect flow: one persistent, single-use session per connect token."""

    name = "provider_auth.connect"
    label = "connect"
    verbose_name = "FlatPeak connect"
