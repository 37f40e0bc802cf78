"""Keep the sandbox's tables in their own database when SANDBOX_DATABASE_URL is set.

FlatPeak is another system with its own storage. The connect flow used to hold a transaction on
the provider's database while it called FlatPeak, so on SQLite a sandbox answering from the same
file had to have its own; the flow now calls FlatPeak with no transaction open (and SQLite runs
in WAL mode with IMMEDIATE transactions), so a shared file only means waiting for short writes.
Unset (the default, and PostgreSQL staging), the sandbox shares the default database.
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
