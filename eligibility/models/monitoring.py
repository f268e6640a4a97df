"""Monitoring warnings for enrolled households and discovery leads for people outside the rolls."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonitoringWarning(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        NO_EFFECT = "no_effect", _("No effect")
        ADJUSTED = "adjusted", _("Adjusted")
        EXIT_STARTED = "exit_started", _("Gradual exit started")

    household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="warnings",
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    change = models.CharField(_("change"), max_length=48)
    item = models.CharField(_("assistance item affected"), max_length=32, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    grace_until = models.DateField(_("grace period until"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The same change imported twice raises one warning.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monitoring warning")
        verbose_name_plural = _("monitoring warnings")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["township", "status"], name="warning_township_status_idx")]

    def __str__(self) -> str:
        from ..monitoring_rules import CHANGE_LABELS  # a pure module; kept out of the models' import

        return f"{self.household} {CHANGE_LABELS.get(self.change, self.change)}"


class DiscoveryLead(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONVERTED = "converted", _("Turned into an application")
        DISMISSED = "dismissed", _("Dismissed")

    person_hash = models.CharField(_("person index"), max_length=64)
    person = models.ForeignKey(
        "applications.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=48)
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    dismissed_reason = models.TextField(_("reason for dismissal"), blank=True)
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("discovery lead")
        verbose_name_plural = _("discovery leads")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["township", "status"], name="lead_township_status_idx")]

    def __str__(self) -> str:
        from ..monitoring_rules import REASON_LABELS

        return f"{REASON_LABELS.get(self.reason, self.reason)} #{self.pk}"
