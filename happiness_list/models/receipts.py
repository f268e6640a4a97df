"""Monthly receipt checks: an SMS asks a sampled household whether an amount arrived."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReceiptCheck(models.Model):
    """One sampled ledger entry, asked about once; the answer comes on the list or a short link.

    `token` opens only the yes/no question for this entry (no personal data, no code asked for).
    """

    class Answer(models.TextChoices):
        PENDING = "pending", _("No answer yet")
        YES = "yes", _("Arrived")
        NO = "no", _("Did not arrive")

    entry = models.OneToOneField(
        "benefits.BenefitEntry",
        verbose_name=_("benefit entry"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    # The month whose sample chose this entry (first day): the once-only key of the monthly run.
    sample_month = models.DateField(_("sample month"), db_index=True)
    token = models.CharField(_("answer link token"), max_length=22, unique=True, db_collation="C")
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices, default=Answer.PENDING)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt check")
        verbose_name_plural = _("receipt checks")
        ordering = ["-sample_month", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.sample_month:%Y-%m} {self.answer}"


class ReceiptSampleRun(models.Model):
    """A month's sample was drawn: the row two beat schedulers race to insert (one wins)."""

    month = models.DateField(_("month"), unique=True)
    share = models.DecimalField(_("share sampled"), max_digits=5, decimal_places=4)
    sampled = models.PositiveIntegerField(_("entries sampled"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt sample run")
        verbose_name_plural = _("receipt sample runs")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
