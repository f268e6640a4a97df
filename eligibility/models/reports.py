"""Verification reports and the assistant's decision on each item."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VerificationReport(models.Model):
    """The per-item, per-criterion result of one data check; reproducible from its recorded inputs."""

    class Trigger(models.TextChoices):
        AUTHORISED = "authorised", _("Automatically on authorisation")
        MANUAL = "manual", _("On demand by staff")
        MONITORING = "monitoring", _("Monitoring re-check")
        PROVINCE = "province", _("With the province's answer")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="reports",
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    as_of = models.DateField(_("standards as of"))
    # SHA-256 of the canonical facts and standards the rules saw: same hash, same result.
    input_hash = models.CharField(_("input hash"), max_length=64)
    standards = models.JSONField(_("standards used"), default=list)
    facts = models.JSONField(_("household facts"), default=dict)
    results = models.JSONField(_("results"), default=list)
    duration_ms = models.FloatField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("verification report")
        verbose_name_plural = _("verification reports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.application} {self.created_at:%Y-%m-%d %H:%M}"


class ItemDecision(models.Model):
    """A person's decision on one item; rejections are never automatic (security.md)."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        HOME_VISIT = "home_visit", _("Ask for a home visit")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="item_decisions",
    )
    report = models.ForeignKey(
        VerificationReport, verbose_name=_("report"), on_delete=models.PROTECT, related_name="decisions"
    )
    item = models.CharField(_("assistance item"), max_length=32)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("item decision")
        verbose_name_plural = _("item decisions")
        ordering = ["application_id", "item", "-decided_at"]
        constraints = [
            models.CheckConstraint(
                name="item_decision_reject_has_reason",
                condition=~models.Q(decision="reject") | ~models.Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        from ..rules import ITEM_LABELS

        return f"{ITEM_LABELS.get(self.item, self.item)}：{self.get_decision_display()}"
