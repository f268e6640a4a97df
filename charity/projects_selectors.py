"""Reads of 公益创投 projects: the public pages (approved projects only) and an organisation's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from .funds_selectors import Totals, leftover_deadline, leftover_is_overdue, totals
from .models import Organisation, Project, ProjectDecision, ProjectReport, Tranche
from .projects_services import overdue_report_tranches


def public_projects() -> QuerySet[Project]:
    """Projects the centre approved (later statuses included); drafts and refusals are never public."""
    return (
        Project.objects.filter(status__in=Project.PUBLIC_STATUSES)
        .select_related("organisation", "call", "township")
        .order_by("-call__year", "title")
    )


def public_project(public_id: str) -> Project | None:
    return public_projects().filter(public_id=public_id).first()


def projects_of_organisation(organisation: Organisation) -> QuerySet[Project]:
    """The portal's list: the organisation's own projects, drafts included, and nobody else's."""
    return (
        Project.objects.filter(organisation=organisation)
        .select_related("call", "township")
        .order_by("-created_at")
    )


def project_of_organisation(organisation: Organisation, public_id: str) -> Project | None:
    return projects_of_organisation(organisation).filter(public_id=public_id).first()


@dataclass
class ProjectPage:
    project: Project
    tranches: list[Tranche]
    decisions: list[ProjectDecision]
    reports: list[ProjectReport]
    funds: Totals
    overdue: list[Tranche] = field(default_factory=list)
    leftover_due_on: dt.date | None = None
    leftover_overdue: bool = False

    @property
    def released(self) -> int:
        return sum(1 for t in self.tranches if t.status == Tranche.Status.RELEASED)


def project_page(project: Project, *, today: dt.date, with_drafts: bool = False) -> ProjectPage:
    """Everything a project's page shows, in a fixed handful of queries."""
    tranches = list(
        project.tranches.order_by("number").prefetch_related(
            Prefetch("reports", queryset=ProjectReport.objects.order_by("-submitted_at"))
        )
    )
    reports = list(project.reports.select_related("tranche").order_by("-submitted_at"))
    if not with_drafts:
        # The public sees the centre's verdicts on reports, not returned drafts' text.
        reports = [r for r in reports if r.status == ProjectReport.Status.APPROVED]
    return ProjectPage(
        project=project,
        tranches=tranches,
        decisions=list(project.decisions.order_by("-decided_at", "-id")),
        reports=reports,
        funds=totals(project.fund_entries.all()),
        overdue=overdue_report_tranches(project, today=today),
        leftover_due_on=leftover_deadline(project),
        leftover_overdue=leftover_is_overdue(project, today=today),
    )
