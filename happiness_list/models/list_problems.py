"""A resident's "有问题?" on one entry of the list: a township task with a working-days deadline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryProblem(models.Model):
    """The resident says an entry was not received, differs in amount, or is not theirs.

    Or a receipt check was answered "no" (source receipt_check). The township answers within
    `allotted` working days; `colour` follows referrals.colours and is refreshed when read.
    """

    class Kind(models.TextChoices):
        NOT_RECEIVED = "not_received", _("Not received")
        DIFFERENT_AMOUNT = "different_amount", _("Different amount")
        NOT_OURS = "not_ours", _("Not ours")

    class Status(models.TextChoices):
        OPEN = "open", _("Being checked by the township")
        ANSWERED = "answered", _("Answered")

    class Source(models.TextChoices):
        LIST = "list", _("Reported on the list")
        RECEIPT_CHECK = "receipt_check", _("Receipt check answered no")

    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey(
        "benefits.BenefitEntry",
        verbose_name=_("benefit entry"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    kind = models.CharField(_("problem"), max_length=20, choices=Kind.choices)
    source = models.CharField(
        _("reported through"), max_length=16, choices=Source.choices, default=Source.LIST
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    allotted_days = models.PositiveSmallIntegerField(_("working days allotted"))
    due_date = models.DateField(_("due date"), db_index=True)
    colour = models.CharField(_("warning"), max_length=8, default="none")
    answer = models.TextField(_("answer to the resident"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("problem with a list entry")
        verbose_name_plural = _("problems with list entries")
        ordering = ["due_date", "id"]
        constraints = [
            # One open problem per entry: a second tap shows the first.
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(status="open"), name="entry_problem_open_once"
            ),
            models.CheckConstraint(
                name="entry_problem_answered_has_answer",
                condition=~models.Q(status="answered")
                | (~models.Q(answer="") & models.Q(answered_at__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["township", "status"], name="entry_problem_township_idx")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.kind}"
