"""Builders for the funds, projects and training tests (through the services where they exist)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from charity.models import Organisation, Project, ProjectCall, Tranche
from charity.projects_services import (
    project_create,
    project_move,
    project_report_review,
    project_report_submit,
    tranche_plan_set,
)


def call(year: int = 2026, *, opens: dt.date | None = None, closes: dt.date | None = None) -> ProjectCall:
    today = timezone.localdate()
    return ProjectCall.objects.create(
        title=f"{year}年度公益创投",
        year=year,
        opens_on=opens or today - dt.timedelta(days=30),
        closes_on=closes or today + dt.timedelta(days=30),
        budget_total=Decimal("500000"),
    )


def project(
    *,
    coordinator: Any,
    member: Any,
    organisation: Organisation,
    the_call: ProjectCall | None = None,
    status: str = Project.Status.IN_PROGRESS,
    tranches: list[tuple[str, dt.date]] | None = None,
    township: Any = None,
    title: str = "困境儿童陪伴计划",
) -> Project:
    """A project walked through the services to `status` (draft, submitted, approved, in_progress)."""
    today = timezone.localdate()
    p = project_create(
        actor=member,
        organisation=organisation,
        call=the_call or call(),
        title=title,
        summary="为困境儿童提供课后陪伴与学业辅导。",
        budget_total=sum(Decimal(a) for a, _d in (tranches or [("30000", today), ("20000", today)])),
        beneficiaries_planned=40,
        township=township,
    )
    tranche_plan_set(
        actor=member,
        project=p,
        tranches=tranches
        or [("30000", today + dt.timedelta(days=10)), ("20000", today + dt.timedelta(days=60))],
    )
    order = [Project.Status.SUBMITTED, Project.Status.APPROVED, Project.Status.IN_PROGRESS]
    if status == Project.Status.DRAFT:
        return p
    for step in order:
        actor = member if step == Project.Status.SUBMITTED else coordinator
        p = project_move(actor=actor, project=p, to=step)
        if step == status:
            break
    return p


def approved_report(*, coordinator: Any, member: Any, tranche: Tranche, reached: int = 10) -> None:
    report = project_report_submit(
        actor=member,
        project=tranche.project,
        tranche=tranche,
        text="第一阶段完成",
        beneficiaries_reached=reached,
    )
    project_report_review(actor=coordinator, report=report, approve=True)
