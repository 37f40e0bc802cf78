from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """The energy provider's customers, premises, tariffs and contracts."""

    name = "accounts"
    verbose_name = _("Customers and tariffs")

    def ready(self) -> None:
        from accounts.sources import checks  # noqa: F401  (registers the system checks)
