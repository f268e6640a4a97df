from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assist_center.pii import EncryptedTextField


class SmsMessage(models.Model):
    """One templated SMS. Template code + parameters only: never free text with personal data."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("sms", "Failed")

    to = EncryptedTextField(_("to"))
    to_hash = models.CharField(_("recipient index"), max_length=64, db_index=True)
    template = models.CharField(_("template"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="sms_due_idx", condition=models.Q(status="pending"))
        ]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"
