"""Assistance standards as data, versioned by item, region and effective date."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Standard(models.Model):
    """Thresholds of one item for one region from a date. In force means never edited in place."""

    item = models.CharField(_("assistance item"), max_length=32)
    # The county, or a township whose standard differs from the county's.
    region = models.ForeignKey(
        "assist_center.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    effective_from = models.DateField(_("effective from"))
    # Set when a newer version takes over; open-ended while in force.
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"))
    params = models.JSONField(_("parameters"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assistance standard")
        verbose_name_plural = _("assistance standards")
        ordering = ["item", "region__code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "region", "effective_from"], name="standard_once_per_day"
            ),
            models.UniqueConstraint(fields=["item", "region", "version"], name="standard_version_once"),
        ]

    def __str__(self) -> str:
        from ..rules import ITEM_LABELS

        return f"{ITEM_LABELS.get(self.item, self.item)} v{self.version} {self.effective_from}"
