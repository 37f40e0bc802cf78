"""Keep the sandbox's tables in their own database when SANDBOX_DATABASE_URL is set.

FlatPeak is another system with its own storage, and on SQLite this matters: the connect flow
holds a transaction on the provider's database while it calls FlatPeak, so a sandbox writing to
that same SQLite file from another thread of the same process would wait for a lock that is only
released when its own answer arrives. With its own file the two never contend. Unset (the
default, and PostgreSQL staging), the sandbox shares the default database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

ALIAS = "sandbox"
APP_LABEL = "sandbox"


def sandbox_db_alias() -> str:
    return ALIAS if ALIAS in settings.DATABASES else "default"


class SandboxRouter:
    def _separate(self) -> bool:
        return ALIAS in settings.DATABASES

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if model._meta.app_label == APP_LABEL and self._separate():
            return ALIAS
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if not self._separate():
            return None
        if db == ALIAS:
            return app_label == APP_LABEL
        if app_label == APP_LABEL:
            return False
        return None
