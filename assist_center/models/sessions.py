from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffSession(AbstractBaseSession):
    """A database session that knows its user, so that all of one user's sessions can be ended.

    Django's own table keys sessions only by an opaque key: ending a user's sessions after a role
    change would mean decoding every row. See assist_center/sessions.py.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta(AbstractBaseSession.Meta):  # type: ignore[name-defined]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
