"""State the security features must share across workers and instances."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionCutoff(models.Model):
    """Log out everywhere: every session of this user that began before `not_before` ends.

    One row per user instead of scanning the session table: the timeout middleware compares the
    session's login time with this instant on each authenticated request.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_cutoff"
    )
    not_before = models.DateTimeField(_("sessions must have started after"))

    class Meta:
        verbose_name = _("session cut-off")
        verbose_name_plural = _("session cut-offs")

    def __str__(self) -> str:
        return f"sessions of user {self.user_id} after {self.not_before:%Y-%m-%d %H:%M:%S}"
