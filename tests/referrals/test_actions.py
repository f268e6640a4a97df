"""Department actions and the centre's changes: scoped, race-safe, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404

from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from referrals.models import Case, Colour, Referral, ReferralOutcome
from referrals.services.actions import (
    OutcomeInput,
    referral_accept,
    referral_complete,
    referral_request_info,
    referral_return,
)
from referrals.services.cases import referral_add, referral_cancel, referral_extend, referral_reassign

from .builders import open_case
from .conftest import RACE
from .test_colours import at
from .threads import run_together

S = Referral.Status
GRANT = OutcomeInput(item="dibao", granted=True, benefit_kind="低保金", amount="650.00", period="monthly")


def _civil(county_map: Any, personas: Any, **kw: Any) -> Referral:
    case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao"], **kw)
    return case.referrals.get()


@pytest.mark.django_db
def test_accept_is_audited_and_another_department_gets_404_and_the_centre_403(
    county_map: Any, personas: Any
) -> None:
    r = _civil(county_map, personas)
    with pytest.raises(Http404):
        referral_accept(actor=personas.dept_medical, referral_id=r.pk)
    with pytest.raises(Http404):
        referral_accept(actor=personas.assistant_b, referral_id=r.pk)
    with pytest.raises(PermissionDenied):
        referral_accept(actor=personas.assistant_a, referral_id=r.pk)
    referral_accept(actor=personas.dept_civil, referral_id=r.pk)
    r.refresh_from_db()
    assert r.status == S.ACCEPTED and r.accepted_at is not None
    assert AuditEvent.objects.get(action="referral.accept").actor == personas.dept_civil
    with pytest.raises(ConflictError):
        referral_accept(actor=personas.dept_civil, referral_id=r.pk)


@pytest.mark.django_db
def test_complete_needs_exactly_one_outcome_per_item(county_map: Any, personas: Any) -> None:
    case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao", "temporary"])
    r = case.referrals.get()
    with pytest.raises(ApplicationError):
        referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[GRANT])
    with pytest.raises(ApplicationError):
        referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[GRANT, GRANT])
    with pytest.raises(ApplicationError) as exc:
        referral_complete(
            actor=personas.dept_civil,
            referral_id=r.pk,
            outcomes=[GRANT, OutcomeInput(item="temporary", granted=False)],
        )
    assert "outcomes.1.reason" in exc.value.extra["fields"]
    referral_complete(
        actor=personas.dept_civil,
        referral_id=r.pk,
        outcomes=[GRANT, OutcomeInput(item="temporary", granted=False, reason="已享受同类救助")],
    )
    assert ReferralOutcome.objects.filter(referral=r).count() == 2
    r.refresh_from_db()
    assert r.status == S.COMPLETED


@pytest.mark.django_db
def test_return_reassign_and_cancel_let_the_case_close(county_map: Any, personas: Any) -> None:
    case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao", "medical"])
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    referral_return(actor=personas.dept_medical, referral_id=medical.pk, reason_code="not_ours")
    with pytest.raises(ApplicationError):
        referral_return(actor=personas.dept_civil, referral_id=civil.pk, reason_code="other", note="")
    moved = referral_reassign(
        actor=personas.coordinator,
        referral_id=medical.pk,
        department_id=county_map.dept_civil.pk,
        reason="民政办理",
    )
    medical.refresh_from_db()
    assert (
        medical.status == S.CANCELLED
        and moved.department == county_map.dept_civil
        and moved.items == ["medical"]
    )
    with pytest.raises(PermissionDenied):
        referral_cancel(actor=personas.assistant_a, referral_id=moved.pk, reason="x")
    referral_cancel(actor=personas.coordinator, referral_id=moved.pk, reason="已由医院直接结算")
    referral_complete(actor=personas.dept_civil, referral_id=civil.pk, outcomes=[GRANT])
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


@pytest.mark.django_db
def test_add_by_hand_and_extend(county_map: Any, personas: Any) -> None:
    with time_machine.travel(at(dt.date(2026, 11, 2), 9), tick=False):
        r = _civil(county_map, personas)
        visit = referral_add(
            actor=personas.assistant_a,
            case_id=r.case_id,
            department_id=county_map.dept_medical.pk,
            title="联合入户走访",
        )
        assert visit.manual and visit.items == [] and visit.due_date == dt.date(2026, 11, 4)
        with pytest.raises(Http404):  # departments see referrals, never cases
            referral_add(
                actor=personas.dept_civil,
                case_id=r.case_id,
                department_id=county_map.dept_medical.pk,
                title="x",
            )
    with time_machine.travel(at(dt.date(2026, 11, 4), 9), tick=False):
        from referrals.services.sweep import colour_sweep

        colour_sweep()
        r.refresh_from_db()
        assert r.colour == Colour.YELLOW
        with pytest.raises(ApplicationError):
            referral_extend(actor=personas.assistant_a, referral_id=r.pk, days=2, reason="")
        referral_extend(actor=personas.assistant_a, referral_id=r.pk, days=3, reason="等待残联鉴定")
    r.refresh_from_db()
    # Wed 4 Nov with 5 days allotted: Thu, Fri and Mon left, 3 > 2.5, so no colour until Thursday.
    assert r.allotted_days == 5 and r.due_date == dt.date(2026, 11, 9) and r.colour == Colour.NONE
    with time_machine.travel(at(dt.date(2026, 11, 5), 0, 5), tick=False):
        colour_sweep()
    r.refresh_from_db()
    assert r.colour == Colour.BLUE
    assert AuditEvent.objects.get(action="referral.extend").reason == "等待残联鉴定"


@RACE
def test_two_accepts_at_once_one_wins_the_other_409(county_map: Any, personas: Any) -> None:
    r = _civil(county_map, personas)
    results = run_together(
        lambda: referral_accept(actor=personas.dept_civil, referral_id=r.pk),
        lambda: referral_accept(actor=personas.dept_civil, referral_id=r.pk),
    )
    assert sorted(type(x).__name__ for x in results) == ["ConflictError", "Referral"]
    assert AuditEvent.objects.filter(action="referral.accept").count() == 1


@RACE
def test_complete_and_return_at_once_one_wins(county_map: Any, personas: Any) -> None:
    r = _civil(county_map, personas)
    results = run_together(
        lambda: referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[GRANT]),
        lambda: referral_return(actor=personas.dept_civil, referral_id=r.pk, reason_code="duplicate"),
    )
    errors = [x for x in results if isinstance(x, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ConflictError) and errors[0].status == 409
    r.refresh_from_db()
    assert r.status in (S.COMPLETED, S.RETURNED)
    assert (r.status == S.COMPLETED) == Case.objects.filter(pk=r.case_id, status="closed").exists()


@RACE
def test_two_departments_finishing_at_once_close_the_case_once(
    county_map: Any, personas: Any, sms_file: Any
) -> None:
    case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao", "medical"])
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    results = run_together(
        lambda: referral_complete(actor=personas.dept_civil, referral_id=civil.pk, outcomes=[GRANT]),
        lambda: referral_complete(
            actor=personas.dept_medical,
            referral_id=medical.pk,
            outcomes=[OutcomeInput(item="medical", granted=True, benefit_kind="住院费用救助", amount="3000")],
        ),
    )
    assert not [x for x in results if isinstance(x, Exception)], results
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert AuditEvent.objects.filter(action="case.close").count() == 1
    from assist_center.models import SmsMessage

    assert SmsMessage.objects.filter(idempotency_key=f"case-closed:{case.pk}").count() == 1


@pytest.mark.django_db
def test_request_info_pauses_and_only_the_centre_answers(county_map: Any, personas: Any) -> None:
    from referrals.services.actions import referral_answer_info

    r = _civil(county_map, personas)
    referral_request_info(actor=personas.dept_civil, referral_id=r.pk, question="请补充户口本")
    with pytest.raises(PermissionDenied):
        referral_answer_info(actor=personas.dept_civil, referral_id=r.pk, answer="x")
    with pytest.raises(ConflictError):
        referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[GRANT])
    referral_answer_info(actor=personas.assistant_a, referral_id=r.pk, answer="已上传")
    r.refresh_from_db()
    # Nobody accepted it before the question: it is waiting to be accepted again, not "accepted".
    assert r.status == S.PENDING and r.accepted_at is None
    assert [m["kind"] for m in r.brief["messages"]] == ["question", "answer"]
    referral_accept(actor=personas.dept_civil, referral_id=r.pk)
    referral_request_info(actor=personas.dept_civil, referral_id=r.pk, question="请补充户口本")
    referral_answer_info(actor=personas.assistant_a, referral_id=r.pk, answer="已上传")
    r.refresh_from_db()
    assert r.status == S.ACCEPTED  # accepted before the question: accepted again after the answer
