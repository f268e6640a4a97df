"""The rolls (在册名单), the benefits ledger, and the township's roll tasks.

benefits sits between applications and eligibility: eligibility reads the rolls (monitoring,
what-if, the roll re-check) and its pool imports write the ledger and reconcile the rolls;
referrals (a granted outcome enrols) and charity (a completion is a ledger entry) write them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assist_center.pii import EncryptedTextField


class Enrolment(models.Model):
    """A person or a household on one assistance item from a date: one row of the rolls.

    Never edited in place beyond its state: a new amount or standard is a new enrolment, and every
    move of the state is an EnrolmentEvent (benefits.services.enrolments, the one way it moves).
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        GRADUAL_EXIT = "gradual_exit", _("Gradual exit")
        ENDED = "ended", _("Ended")

    class Source(models.TextChoices):
        GRANTED_OUTCOME = "granted_outcome", _("Granted referral outcome")
        EXISTING_RECIPIENT = "existing_recipient", _("Department's list of existing recipients")
        ASSISTANT_ENTRY = "assistant_entry", _("Entered by an assistant")

    class EndReason(models.TextChoices):
        GRACE_ENDED = "grace_ended", _("Gradual exit completed")
        NO_LONGER_ELIGIBLE = "no_longer_eligible", _("No longer eligible")
        DECEASED = "deceased", _("Deceased")
        MOVED_AWAY = "moved_away", _("Moved away")
        DEPARTMENT = "department", _("Ended by the department")
        REPLACED = "replaced", _("Replaced by a new enrolment")
        CORRECTION = "correction", _("Entered in error")

    household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    # Blank for an item granted to the household as a whole (dibao); set for a person's own item.
    person = models.ForeignKey(
        "applications.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    # Denormalised from the household: every township-scoped read and sweep filters on it.
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.CharField(_("assistance item"), max_length=32)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    monthly_amount = models.DecimalField(
        _("monthly amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    kind = models.CharField(_("benefit in kind"), max_length=200, blank=True)
    # The department that pays it: the provider of the monthly ledger entries.
    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    standard_version = models.PositiveIntegerField(_("standard version"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    # The referral outcome id, the pool record id of the department's list, or "" for an entry.
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ACTIVE)
    grace_end = models.DateField(_("grace period ends"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=24, choices=EndReason.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["household_id", "item", "since", "id"]
        constraints = [
            # One open enrolment per household, person (or none) and item: the roll has no twins.
            models.UniqueConstraint(
                fields=["household", "person", "item"],
                condition=~Q(state="ended"),
                nulls_distinct=False,
                name="enrolment_open_once",
            ),
            models.CheckConstraint(
                name="enrolment_amount_or_kind",
                condition=Q(monthly_amount__isnull=False) | ~Q(kind=""),
            ),
            models.CheckConstraint(
                name="enrolment_amount_not_negative",
                condition=Q(monthly_amount__isnull=True) | Q(monthly_amount__gte=0),
            ),
            models.CheckConstraint(
                name="enrolment_exit_has_grace_end",
                condition=~Q(state="gradual_exit") | Q(grace_end__isnull=False),
            ),
            models.CheckConstraint(
                name="enrolment_ended_has_date_and_reason",
                condition=~Q(state="ended") | (Q(ended_on__isnull=False) & ~Q(end_reason="")),
            ),
            models.CheckConstraint(
                name="enrolment_entry_has_reason",
                condition=~Q(source="assistant_entry") | ~Q(reason=""),
            ),
        ]
        indexes = [
            models.Index(fields=["township", "state"], name="enrolment_township_state_idx"),
            # The grace sweeps: exits whose end comes or came, and nothing else.
            models.Index(
                fields=["grace_end"], name="enrolment_grace_end_idx", condition=Q(state="gradual_exit")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.item} {self.since}"


class EnrolmentEvent(models.Model):
    """One move of an enrolment's state, append-only: the roll's history."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Enrolled")
        EXIT_BEGUN = "exit_begun", _("Gradual exit started")
        EXIT_REVOKED = "exit_revoked", _("Gradual exit withdrawn")
        ENDED = "ended", _("Ended")

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("change"), max_length=16, choices=Kind.choices)
    old_state = models.CharField(_("from"), max_length=16, blank=True)
    new_state = models.CharField(_("to"), max_length=16)
    effective_date = models.DateField(_("effective date"))
    data = models.JSONField(_("details"), default=dict, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enrolment change")
        verbose_name_plural = _("enrolment changes")
        ordering = ["enrolment_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Enrolment events are append-only.")
        super().save(*args, **kwargs)


class BenefitEntry(models.Model):
    """One benefit a household received: a month of an enrolment, a payment-file row, a delivery.

    `source_key` makes every writer idempotent: "file:<category>:<payment id>" (the department's own
    id), "enrolment:<id>:<YYYY-MM>", "outcome:<id>", "charity:<id>".
    """

    class Source(models.TextChoices):
        ENROLMENT_MONTH = "enrolment_month", _("Monthly amount of an enrolment")
        PAYMENT_FILE = "payment_file", _("Department's payment file")
        REFERRAL_OUTCOME = "referral_outcome", _("Referral outcome")
        CHARITY_COMPLETION = "charity_completion", _("Charity completion")

    # No database foreign keys on the bulk-written columns: a payment file writes a million rows,
    # and each key check locks the referenced person and household once more (the notification
    # table's reasoning in referrals.models). Persons, households and enrolments are never deleted
    # (PROTECT everywhere else), and the writers take the ids from the rows they join.
    household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.DO_NOTHING,
        related_name="benefits",
        db_constraint=False,
        db_index=False,
    )
    person = models.ForeignKey(
        "applications.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    item = models.CharField(_("assistance item"), max_length=32, blank=True)
    # The providing department's code, or an organisation's name for a charity completion.
    provider_code = models.CharField(_("provider"), max_length=64, blank=True)
    provider_name = models.CharField(_("provider name"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    in_kind = models.CharField(_("in kind"), max_length=200, blank=True)
    # The first day of the month the benefit is for.
    period = models.DateField(_("period (month)"))
    paid_on = models.DateField(_("payment date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    source_key = models.CharField(_("source key"), max_length=120, db_collation="C")
    content_hash = models.CharField(_("content hash"), max_length=32, blank=True)
    import_job_id = models.BigIntegerField(_("import job"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("benefit entry")
        verbose_name_plural = _("benefit entries")
        ordering = ["household_id", "period", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source_key"], name="benefit_entry_source_once"),
            models.CheckConstraint(
                name="benefit_entry_amount_or_kind", condition=Q(amount__isnull=False) | ~Q(in_kind="")
            ),
        ]
        indexes = [
            # A household's year (the happiness list) is one index range.
            models.Index(fields=["household", "period"], name="benefit_household_period_idx"),
        ]

    def __str__(self) -> str:
        return self.source_key


class RollTask(models.Model):
    """Work for a township about its rolls: an exit about to end, a mismatch with a department's list."""

    class Kind(models.TextChoices):
        GRACE_ENDING = "grace_ending", _("Gradual exit about to end")
        ON_LIST_NOT_ENROLLED = "on_list_not_enrolled", _("On the department's list but not enrolled")
        ENROLLED_NOT_ON_LIST = "enrolled_not_on_list", _("Enrolled but not on the department's list")
        AMOUNT_DIFFERS = "amount_differs", _("Amount differs from the department's list")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    item = models.CharField(_("assistance item"), max_length=32, blank=True)
    # The two records side by side: the department's (its list row) and the roll's (the enrolment).
    department_record = models.JSONField(_("department's record"), default=dict)
    roll_record = models.JSONField(_("roll record"), default=dict)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    import_job_id = models.BigIntegerField(_("import job"), null=True, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("roll task")
        verbose_name_plural = _("roll tasks")
        ordering = ["due_date", "id"]
        constraints = [
            # The same mismatch found again while its task is open adds nothing (two imports, two beats).
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=Q(status="open"), name="roll_task_open_once"
            ),
        ]
        indexes = [models.Index(fields=["township", "status"], name="roll_task_township_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.household_id}"


class TownshipContact(models.Model):
    """A phone that receives a township's roll reminders (a duty phone or an assistant's mobile).

    StaffProfile carries no phone; as with referrals.DepartmentContact, a township without one sees
    its reminders as roll tasks only.
    """

    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(_("label"), max_length=64, blank=True)
    phone = EncryptedTextField(_("phone"))
    phone_hash = models.CharField(_("phone index"), max_length=64, db_index=True)
    active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)

    class Meta:
        verbose_name = _("township reminder contact")
        verbose_name_plural = _("township reminder contacts")
        constraints = [
            models.UniqueConstraint(fields=["township", "phone_hash"], name="township_contact_once")
        ]

    def __str__(self) -> str:
        return f"{self.township_id} {self.label}".strip()
