from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditArchiveBatch(models.Model):
    """One file of archived audit events, a link of the hash chain (assist_center/audit_archive.py).

    Append-only like the events: a trigger refuses UPDATE and DELETE.
    """

    seq = models.PositiveIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    cutoff = models.DateTimeField(_("events before"))
    first_event_id = models.BigIntegerField(_("first event"))
    last_event_id = models.BigIntegerField(_("last event"))
    event_count = models.PositiveIntegerField(_("events"))
    file_name = models.CharField(_("file"), max_length=128, unique=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    prev_chain_hash = models.CharField(_("previous link"), max_length=64)
    chain_hash = models.CharField(_("link"), max_length=64, unique=True)
    signature = models.CharField(_("signature"), max_length=64)

    class Meta:
        verbose_name = _("audit archive batch")
        verbose_name_plural = _("audit archive batches")
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(
                name="audit_archive_ids_ordered",
                condition=models.Q(first_event_id__lte=models.F("last_event_id")),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.first_event_id}–{self.last_event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit archive batches are append-only.")
        super().save(*args, **kwargs)
