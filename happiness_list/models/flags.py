"""Omission (遗漏) and duplicate (重复) flags on a household's list, and the nightly check's runs."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ListFlag(models.Model):
    """Something a cadre should look at: a benefit the rolls expect that did not arrive, or one that
    arrived twice. Raised by the nightly check (happiness_list.services.flags) or by a receipt check
    answered "no"; resolved by the township with a reason (audited), never deleted.

    `evidence` lists what the check saw: [{"type": "entry"|"enrolment"|"report"|"receipt_check"|
    "referral", "id": ..., "label": ...}]; the worklist links each to its page. `dedupe_key` names
    the finding (its evidence ids), so a finding resolved once is not raised again by the next
    night; new evidence is a new key and a new flag.
    """

    class Kind(models.TextChoices):
        OMISSION = "omission", _("Omission")
        DUPLICATE = "duplicate", _("Duplicate")
        RECEIPT = "receipt", _("Receipt not confirmed")

    class Reason(models.TextChoices):
        ENROLLED_NOT_PAID = "enrolled_not_paid", _("On the rolls, but nothing arrived for the month")
        ELIGIBLE_NOT_PAID = "eligible_not_paid", _("Found eligible and approved, but nothing arrived")
        TWO_PROVIDERS = "two_providers", _("The same kind from two providers for overlapping periods")
        EVENT_TWICE = "event_twice", _("The same event relieved twice")
        CHARITY_DUPLICATES_PAID = (
            "charity_duplicates_paid",
            _("An organisation's help duplicates a benefit already paid"),
        )
        RECEIPT_NO = "receipt_no", _("The household answered that the amount did not arrive")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    class Resolution(models.TextChoices):
        CORRECTED = "corrected", _("Corrected (paid, stopped or recovered)")
        JUSTIFIED = "justified", _("Checked: correct as it is")
        REFERRED = "referred", _("Handed to the department")

    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised from the household: the worklist is one index range per township.
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("flag"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("finding"), max_length=32, choices=Reason.choices)
    item = models.CharField(_("assistance item"), max_length=32, blank=True)
    # The month the finding is about (first day).
    period = models.DateField(_("period (month)"))
    evidence = models.JSONField(_("evidence"), default=list, encoder=DjangoJSONEncoder)
    dedupe_key = models.CharField(_("finding key"), max_length=200, unique=True, db_collation="C")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(_("reason for the resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("list flag")
        verbose_name_plural = _("list flags")
        ordering = ["-period", "id"]
        constraints = [
            models.CheckConstraint(
                name="list_flag_resolved_has_reason",
                condition=~Q(status="resolved")
                | (~Q(resolution="") & ~Q(resolution_note="") & Q(resolved_at__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(fields=["township", "status", "period"], name="list_flag_township_idx"),
            models.Index(fields=["household", "status"], name="list_flag_household_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.household_id} {self.period:%Y-%m}"


class FlagCheckRun(models.Model):
    """One night's check: the marks up to which the ledger, rolls, reports and referrals were read.

    The next run reads only rows past these marks (primary-key ranges), so its cost follows what
    changed; a new check month re-reads the households the month expects something for. `day` is
    unique: a second beat, a retry or a redelivered task finds the night's row and does nothing.
    """

    day = models.DateField(_("day"), unique=True)
    check_month = models.DateField(_("month checked"))
    entry_mark = models.BigIntegerField(_("ledger read up to"), default=0)
    event_mark = models.BigIntegerField(_("roll changes read up to"), default=0)
    report_mark = models.BigIntegerField(_("reports read up to"), default=0)
    decision_mark = models.BigIntegerField(_("decisions read up to"), default=0)
    referral_mark = models.BigIntegerField(_("referral changes read up to"), default=0)
    households = models.PositiveIntegerField(_("households checked"), default=0)
    raised = models.PositiveIntegerField(_("flags raised"), default=0)
    full = models.BooleanField(_("whole month re-read"), default=False)
    ran_at = models.DateTimeField(_("ran at"))
    duration_ms = models.FloatField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("flag check run")
        verbose_name_plural = _("flag check runs")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.households} / {self.raised}"
