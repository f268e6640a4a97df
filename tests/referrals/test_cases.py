"""Opening a case from decisions: one referral per department, briefs, deadlines, outside needs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine

from applications.models import Application
from assist_center import hooks
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from eligibility.services.decisions import DecidedApplication
from eligibility.services.decisions import decided_application as _decided_of
from referrals.colours import colour_for
from referrals.models import Case, Colour, DeadlineRule, OutsidePolicyNeed, Referral
from referrals.services.cases import ITEM_DEPARTMENT, case_open_from_decisions, on_application_decided

from .builders import OTHER_MEMBER_NAME, decided_application, open_case, other_member_id_number
from .test_colours import at

pytestmark = pytest.mark.django_db


def decided_application_of(app: Application) -> DecidedApplication:
    """The hook's payload for an application the builder decided (as the decision would send it)."""
    return _decided_of(Application.objects.select_related("township", "village").get(pk=app.pk))


def test_one_referral_per_department_with_its_items(county_map: Any, personas: Any) -> None:
    with time_machine.travel(at(dt.date(2026, 9, 30), 10), tick=False):
        case = open_case(
            county_map.village_a1,
            actor=personas.assistant_a,
            items=["dibao", "temporary", "medical", "education"],
        )
    by_dept = {r.department.code: r for r in case.referrals.select_related("department")}
    assert set(by_dept) == {"civil_affairs", "medical_security", "education"}
    assert by_dept["civil_affairs"].items == ["dibao", "temporary"]
    assert all(
        r.status == Referral.Status.PENDING and r.due_date == dt.date(2026, 10, 9) for r in by_dept.values()
    )
    event = AuditEvent.objects.get(action="case.open", subject_id=str(case.pk))
    assert event.actor == personas.assistant_a and len(event.new_values["referrals"]) == 3


def test_every_item_has_a_department() -> None:
    from eligibility.rules import ITEMS

    assert set(ITEM_DEPARTMENT) == set(ITEMS)


def test_the_brief_carries_only_what_the_department_needs(county_map: Any, personas: Any) -> None:
    app = decided_application(
        county_map.village_a1, decided_by=personas.assistant_a, items=["dibao", "medical"]
    )
    case = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    for r in (civil, medical):
        text = json.dumps(r.brief, ensure_ascii=False)
        assert other_member_id_number(app) not in text
        assert "+86" not in text and "records" not in text and "W-1" not in text
        assert OTHER_MEMBER_NAME not in text
        assert r.brief["applicant_name"] == "王秀英"
    assert [i["item"] for i in medical.brief["items"]] == ["medical"]  # not the dibao facts
    assert "address" not in medical.brief and civil.brief["address"] == "幸福路8号"
    assert civil.brief["household_size"] == 2


def test_deadline_rules_item_over_department_over_default(county_map: Any, personas: Any) -> None:
    DeadlineRule.objects.create(department=county_map.dept_civil, item="", days=3)
    DeadlineRule.objects.create(department=county_map.dept_civil, item="temporary", days=5)
    with time_machine.travel(at(dt.date(2026, 11, 2), 9), tick=False):  # Monday
        case = open_case(
            county_map.village_a1, actor=personas.assistant_a, items=["dibao", "temporary", "medical"]
        )
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    assert civil.allotted_days == 5 and civil.due_date == dt.date(2026, 11, 9)
    assert medical.allotted_days == 2 and medical.due_date == dt.date(2026, 11, 4)
    # Blue from Thursday: Fri 6 and Mon 9 left, 2 <= 2.5 (on Wednesday 3 are left).
    assert colour_for(allotted=5, due_date=civil.due_date, today=dt.date(2026, 11, 4)) == Colour.NONE
    assert colour_for(allotted=5, due_date=civil.due_date, today=dt.date(2026, 11, 5)) == Colour.BLUE


def test_the_need_note_becomes_an_outside_policy_need_with_its_consents(
    county_map: Any, personas: Any
) -> None:
    case = open_case(
        county_map.village_a1, actor=personas.assistant_a, need_note="需要轮椅一台", consent_share=True
    )
    need = OutsidePolicyNeed.objects.get(case=case)
    assert need.text == "需要轮椅一台" and need.publish_consent and need.share_consent
    assert need.township == county_map.town_a


def test_opening_twice_returns_the_same_case_and_needs_a_decided_application(
    county_map: Any, personas: Any
) -> None:
    app = decided_application(county_map.village_a1, decided_by=personas.assistant_a)
    first = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    assert case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk) == first
    assert Case.objects.count() == 1 and Referral.objects.count() == 2
    other = decided_application(county_map.village_a1, decided_by=personas.assistant_a)
    Application.objects.filter(pk=other.pk).update(status=Application.Status.UNDER_REVIEW)
    with pytest.raises(ConflictError):
        case_open_from_decisions(actor=personas.assistant_a, application_id=other.pk)


def test_nothing_approved_opens_no_case(county_map: Any, personas: Any) -> None:
    app = decided_application(
        county_map.village_a1, decided_by=personas.assistant_a, items=[], rejected=["dibao"]
    )
    decided = decided_application_of(app)
    assert decided.approved_items == ()
    assert on_application_decided(decided=decided, actor=personas.assistant_a) is None
    with pytest.raises(ApplicationError):
        case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)


def test_the_decided_hook_is_registered_at_start_up(county_map: Any, personas: Any) -> None:
    assert on_application_decided in hooks.handlers("application_decided")
    app = decided_application(county_map.village_a1, decided_by=personas.assistant_a)
    decided = decided_application_of(app)
    (case,) = hooks.call("application_decided", decided=decided, actor=personas.assistant_a)
    assert case.application_id == app.pk


def _snapshot(case: Case) -> dict[str, Any]:
    """What a case opens with, without its ids: referrals, briefs, deadlines, the outside need, the audit."""
    event = AuditEvent.objects.get(action="case.open", subject_id=str(case.pk))
    return {
        "case": (case.township_id, case.village_id, case.status),
        "referrals": sorted(
            (r.department.code, r.items, r.brief, r.due_date, r.allotted_days, r.colour, r.created_by_id)
            for r in case.referrals.select_related("department")
        ),
        "outside": [
            (o.text, o.publish_consent, o.share_consent) for o in OutsidePolicyNeed.objects.filter(case=case)
        ],
        "audit": (
            event.actor_id,
            event.region_id,
            [(r["department"], r["items"], r["due_date"]) for r in event.new_values["referrals"]],
            event.new_values["outside_need"] is not None,
        ),
    }


def test_the_decision_opens_the_case_a_retry_would_open(county_map: Any, personas: Any) -> None:
    from tests.factories import ApplicationFactory

    app = ApplicationFactory.create(
        decided=True,
        village=county_map.village_a1,
        needs=["dibao", "medical"],
        approve=["dibao", "medical"],
        need_note="屋顶漏雨",
        assistant=personas.assistant_a,
        decided_by=personas.assistant_a,
    )
    by_decision = _snapshot(Case.objects.get(application=app))
    # As if the decision had committed without its case: the retry opens it.
    Referral.objects.filter(case__application=app).delete()
    OutsidePolicyNeed.objects.filter(case__application=app).delete()
    Case.objects.filter(application=app).delete()
    retried = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    assert _snapshot(retried) == by_decision
    assert len(by_decision["referrals"]) == 2 and by_decision["outside"]


def test_the_hand_off_reads_nothing_of_eligibility_and_does_not_relock_the_application(
    county_map: Any, personas: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = decided_application(county_map.village_a1, decided_by=personas.assistant_a, items=["dibao"])
    decided = decided_application_of(app)
    with CaptureQueriesContext(connection) as ctx:
        case = on_application_decided(decided=decided, actor=personas.assistant_a)
    assert case is not None and case.referrals.count() == 1
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sqls if '"eligibility_' in s]
    assert not [s for s in sqls if "FOR UPDATE" in s and '"applications_application"' in s]
