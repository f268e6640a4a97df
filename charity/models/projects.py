"""公益创投 venture-philanthropy projects: calls, applications, tranches, reports, decisions.

A tranche of a project's budget is released only when the report it depends on is approved, and
a report past its due date blocks every later release and shows on the project's public page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .funds import new_public_id


class ProjectCall(models.Model):
    """A round of 公益创投: the centre invites organisations to apply between two dates."""

    title = models.CharField(_("title"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    budget_total = models.DecimalField(_("total budget (yuan)"), max_digits=14, decimal_places=2)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("venture-philanthropy call")
        verbose_name_plural = _("venture-philanthropy calls")
        ordering = ["-year", "-opens_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="projectcall_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Project(models.Model):
    """An organisation's application to a call, and the project it becomes once approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        TERMINATED = "terminated", _("Terminated")

    # Statuses the public sees: the centre has approved the project.
    PUBLIC_STATUSES = (Status.APPROVED, Status.IN_PROGRESS, Status.COMPLETED, Status.TERMINATED)

    public_id = models.CharField(
        _("public id"), max_length=24, unique=True, default=new_public_id, editable=False
    )
    call = models.ForeignKey(
        ProjectCall, verbose_name=_("call"), on_delete=models.PROTECT, related_name="projects"
    )
    organisation = models.ForeignKey(
        "charity.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    title = models.CharField(_("title"), max_length=120)
    summary = models.TextField(_("public summary"), max_length=2000)
    township = models.ForeignKey(
        "assist_center.Region",
        verbose_name=_("township served"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    budget_total = models.DecimalField(_("budget (yuan)"), max_digits=14, decimal_places=2)
    beneficiaries_planned = models.PositiveIntegerField(_("planned beneficiaries"), default=0)
    beneficiaries_reached = models.PositiveIntegerField(_("beneficiaries reached"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # The day it actually ended (completed or terminated): the 3-month leftover clock starts here.
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The "last updated" the public page shows: every service that changes the project sets it.
    updated_at = models.DateTimeField(_("last updated"))

    class Meta:
        verbose_name = _("venture-philanthropy project")
        verbose_name_plural = _("venture-philanthropy projects")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["organisation", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(budget_total__gte=0), name="project_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(status__in=["completed", "terminated"]),
                name="project_ended_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES


class Tranche(models.Model):
    """A part of a project's budget, released once the report due before it is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not released")
        RELEASED = "released", _("Released")

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="tranches"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    report_due_on = models.DateField(_("report due on"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="tranche_number_unique_per_project"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="tranche_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status="pending", released_at__isnull=True)
                | Q(status="released", released_at__isnull=False),
                name="tranche_released_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} #{self.number}"


class ProjectReport(models.Model):
    """The organisation's report on a tranche's work; the centre approves or returns it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="reports"
    )
    tranche = models.ForeignKey(
        Tranche, verbose_name=_("tranche"), on_delete=models.PROTECT, related_name="reports"
    )
    text = models.TextField(_("report"), max_length=5000)
    beneficiaries_reached = models.PositiveIntegerField(_("beneficiaries reached so far"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("project report")
        verbose_name_plural = _("project reports")
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.project} #{self.tranche.number}"


class ProjectDecision(models.Model):
    """One decision of the centre on a project, public once the project is (公示)."""

    class Kind(models.TextChoices):
        APPROVE = "approve", _("Approved the application")
        REJECT = "reject", _("Refused the application")
        START = "start", _("Started the project")
        APPROVE_REPORT = "approve_report", _("Approved a report")
        RETURN_REPORT = "return_report", _("Returned a report")
        RELEASE = "release", _("Released a tranche")
        COMPLETE = "complete", _("Closed the project as completed")
        TERMINATE = "terminate", _("Terminated the project")

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField(_("decision"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("reason or note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        verbose_name = _("project decision")
        verbose_name_plural = _("project decisions")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project}: {self.get_kind_display()}"
