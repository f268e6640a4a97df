"""The public fund ledger: pledges, receipts, spending and leftover disclosures, append-only.

The 2026 charity-disclosure rules want per-project entries and leftover funds disclosed within
three months of a project's end; reporters found the 2022 99公益日 disclosure "limited or even
empty". So every entry is public (donor names only with consent), and the database itself
refuses UPDATE and DELETE (migration 0003's trigger): a mistake is corrected by a new entry that
points at the one it replaces and says why (更正说明).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ANONYMOUS_DONOR = "爱心人士"


def new_public_id() -> str:
    """An unguessable id for public URLs, never the database id (16 url-safe characters)."""
    return secrets.token_urlsafe(12)


class FundEntry(models.Model):
    """One line of the ledger: money pledged, received, spent, or a leftover disclosure."""

    class Kind(models.TextChoices):
        PLEDGE = "pledge", _("Pledge")
        RECEIPT = "receipt", _("Receipt")
        SPENDING = "spending", _("Spending")
        # The statement of what was left when a project ended and where it goes; not money moved.
        LEFTOVER = "leftover", _("Leftover disclosure")

    public_id = models.CharField(
        _("public id"), max_length=24, unique=True, default=new_public_id, editable=False
    )
    organisation = models.ForeignKey(
        "charity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="fund_entries",
    )
    project = models.ForeignKey(
        "charity.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_entries",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    occurred_on = models.DateField(_("date"))
    # Pledges only: the date the money was promised by; past it and not fully received = overdue.
    due_on = models.DateField(_("due by"), null=True, blank=True)
    # Receipts only: the pledge this money fulfils.
    pledge = models.ForeignKey(
        "self",
        verbose_name=_("pledge fulfilled"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
        limit_choices_to={"kind": "pledge"},
    )
    donor_name = models.CharField(_("donor name"), max_length=100, blank=True)
    donor_consents_to_name = models.BooleanField(_("donor agrees to be named"), default=False)
    purpose = models.CharField(_("purpose or description"), max_length=300, blank=True)
    # A correction replaces the entry it points at (one correction per entry; a correction may be
    # corrected in turn). Totals count only entries that nothing corrects.
    corrects = models.OneToOneField(
        "self",
        verbose_name=_("corrects entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="correction",
    )
    correction_note = models.CharField(_("correction note (更正说明)"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund ledger entry")
        verbose_name_plural = _("fund ledger entries")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["organisation", "kind"]), models.Index(fields=["project", "kind"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="fundentry_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_note=""),
                name="fundentry_correction_has_note",
            ),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(kind="pledge"), name="fundentry_due_only_on_pledges"
            ),
            models.CheckConstraint(
                condition=Q(pledge__isnull=True) | Q(kind="receipt"), name="fundentry_pledge_only_on_receipts"
            ),
            models.CheckConstraint(
                condition=~Q(kind="leftover") | Q(project__isnull=False),
                name="fundentry_leftover_has_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.occurred_on})"

    @property
    def public_donor(self) -> str:
        """The donor as the public sees it: the name only with the donor's consent."""
        if self.donor_consents_to_name and self.donor_name:
            return self.donor_name
        return ANONYMOUS_DONOR
