"""公益创投 projects: moves, tranche release gated by an approved report, overdue reports, public pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from charity.funds_selectors import totals
from charity.models import FundEntry, Organisation, Project, ProjectDecision, Tranche
from charity.projects_services import (
    project_move,
    project_report_review,
    project_report_submit,
    tranche_release,
)

from . import funds_builders as b

pytestmark = pytest.mark.django_db


def _org(personas: Any) -> Organisation:
    return Organisation.objects.get(members=personas.org_member_1)


def _project(personas: Any, **kw: Any) -> Project:
    return b.project(
        coordinator=personas.coordinator, member=personas.org_member_1, organisation=_org(personas), **kw
    )


def test_a_tranche_is_released_only_after_its_report_is_approved(personas: Any) -> None:
    p = _project(personas)
    first = p.tranches.get(number=1)
    with pytest.raises(ApplicationError, match="报告尚未审核通过"):
        tranche_release(actor=personas.coordinator, tranche=first)
    report = project_report_submit(
        actor=personas.org_member_1, project=p, tranche=first, text="完成 12 次陪伴", beneficiaries_reached=12
    )
    with pytest.raises(ApplicationError):
        tranche_release(actor=personas.coordinator, tranche=first)
    with pytest.raises(PermissionDenied):
        project_report_review(actor=personas.org_member_1, report=report, approve=True)
    project_report_review(actor=personas.coordinator, report=report, approve=True)
    released = tranche_release(actor=personas.coordinator, tranche=first)
    assert released.status == Tranche.Status.RELEASED and released.released_by == personas.coordinator
    # The money paid is in the public ledger as the project's receipt, and counted.
    receipt = FundEntry.objects.get(project=p, kind=FundEntry.Kind.RECEIPT)
    assert receipt.amount == Decimal("30000.00") and receipt.public_donor == "县联合帮扶中心公益创投资金"
    assert totals().received == Decimal("30000.00")
    assert ProjectDecision.objects.filter(project=p, kind=ProjectDecision.Kind.RELEASE).count() == 1
    assert AuditEvent.objects.filter(action="charity.tranche.release").count() == 1
    p.refresh_from_db()
    assert p.beneficiaries_reached == 12
    with pytest.raises(ConflictError):
        tranche_release(actor=personas.coordinator, tranche=first)


def test_an_overdue_report_blocks_release_and_shows_on_the_public_page(personas: Any) -> None:
    today = timezone.localdate()
    p = _project(
        personas,
        tranches=[("30000", today + dt.timedelta(days=5)), ("20000", today + dt.timedelta(days=40))],
    )
    first, second = p.tranches.order_by("number")
    b.approved_report(coordinator=personas.coordinator, member=personas.org_member_1, tranche=second)
    later = today + dt.timedelta(days=10)
    with time_machine.travel(dt.datetime.combine(later, dt.time(12), tzinfo=dt.UTC), tick=False):
        # The first report is past due and not approved: the second tranche cannot go out.
        with pytest.raises(ApplicationError, match="逾期") as exc:
            tranche_release(actor=personas.coordinator, tranche=second)
        assert exc.value.extra["overdue_tranches"] == [1]
        page = Client().get(f"/charity/projects/{p.public_id}/").content.decode()
    assert "报告逾期" in page and 'id="overdue-reports"' in page
    assert (
        f"{timezone.localtime(p.updated_at):%Y-%m-%d}" in page
    )  # the page's date is Asia/Shanghai and 'id="last-updated"' in page
    assert first.report_due_on.isoformat() in page


def test_moves_follow_the_table_and_the_loser_gets_a_409(personas: Any) -> None:
    p = _project(personas, status=Project.Status.SUBMITTED)
    with pytest.raises(PermissionDenied):
        project_move(actor=personas.org_member_1, project=p, to=Project.Status.APPROVED)
    with pytest.raises(ApplicationError) as exc:
        project_move(actor=personas.coordinator, project=p, to=Project.Status.REJECTED, note="")
    assert exc.value.extra["fields"]["note"]
    project_move(actor=personas.coordinator, project=p, to=Project.Status.APPROVED)
    with pytest.raises(ConflictError):
        project_move(actor=personas.coordinator, project=p, to=Project.Status.APPROVED)
    with pytest.raises(ConflictError):
        project_move(actor=personas.coordinator, project=p, to=Project.Status.COMPLETED)


def test_a_draft_cannot_be_submitted_outside_the_call(personas: Any) -> None:
    today = timezone.localdate()
    closed = b.call(opens=today - dt.timedelta(days=60), closes=today - dt.timedelta(days=1))
    p = _project(personas, the_call=closed, status=Project.Status.DRAFT)
    with pytest.raises(ApplicationError, match="申报期"):
        project_move(actor=personas.org_member_1, project=p, to=Project.Status.SUBMITTED)


def test_drafts_and_refused_projects_are_not_public(personas: Any) -> None:
    draft = _project(personas, status=Project.Status.DRAFT, title="草稿项目")
    shown = _project(personas, title="公开项目")
    client = Client()
    assert client.get(f"/charity/projects/{draft.public_id}/").status_code == 404
    assert client.get(f"/charity/projects/{draft.pk}/").status_code == 404
    listing = client.get("/charity/projects/").content.decode()
    assert "公开项目" in listing and "草稿项目" not in listing
    page = client.get(f"/charity/projects/{shown.public_id}/")
    assert page.status_code == 200
    assert "纠错/举报" in page.content.decode()


def test_another_organisation_cannot_touch_a_project(personas: Any) -> None:
    p = _project(personas, status=Project.Status.DRAFT)
    with pytest.raises(PermissionDenied):
        project_move(actor=personas.org_member_2, project=p, to=Project.Status.SUBMITTED)
    started = _project(personas)
    with pytest.raises(PermissionDenied):
        project_report_submit(
            actor=personas.org_member_2,
            project=started,
            tranche=started.tranches.first(),
            text="x",
            beneficiaries_reached=1,
        )
