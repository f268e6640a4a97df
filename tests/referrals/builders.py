"""Decided applications with approved items, made directly with the ORM.

The referral tests do not run the data check or the decision services: they start from the rows
those services leave behind (Application "decided", members, a VerificationReport, ItemDecisions).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Iterable
from typing import Any

from applications.models import Application, ApplicationMember
from assist_center.identity import make_id_number
from assist_center.models import Department, Region
from assist_center.pii import id_number_index, phone_index
from eligibility.models import ItemDecision, VerificationReport
from referrals.services.cases import ITEM_DEPARTMENT, case_open_from_decisions

from ..factories import DepartmentFactory

APPLICANT_PHONE = "+8613912345678"
_seq = itertools.count(300)

# Names and ID numbers of the members who are not the applicant: nothing of them may reach a
# department or an SMS.
OTHER_MEMBER_NAME = "李建国"


def departments_for(items: Iterable[str]) -> dict[str, Department]:
    out: dict[str, Department] = {}
    for i in items:
        out[ITEM_DEPARTMENT[i]] = DepartmentFactory(code=ITEM_DEPARTMENT[i])  # type: ignore[assignment]
    return out


def _result(item: str) -> dict[str, Any]:
    return {
        "item": item,
        "label": item,
        "outcome": "eligible",
        "asked": True,
        "policy_finds_person": False,
        "criteria": [
            {
                "name": "income",
                "outcome": "pass",
                "value": "400.00",
                "threshold": "1000.00",
                "unit": "元/月",
                "reason": f"{item}：家庭月人均收入400元，低于标准",
                "records": [
                    {
                        "member": "m2",
                        "category": "wage",
                        "department": "human_resources",
                        "source_record_id": "W-1",
                        "effective_date": "2026-01-01",
                    }
                ],
            }
        ],
        "standard": None,
    }


def decided_application(
    village: Region,
    *,
    items: Iterable[str] = ("dibao", "medical"),
    decided_by: Any,
    need_note: str = "",
    phone: str = APPLICANT_PHONE,
    consent_publish: bool = True,
    consent_share: bool = False,
    rejected: Iterable[str] = (),
) -> Application:
    assert village.township is not None
    items = list(items)
    departments_for(items)
    app = Application.objects.create(
        receipt_code=secrets.token_hex(5).upper(),
        family_token=secrets.token_urlsafe(32),
        status=Application.Status.DECIDED,
        code_region=village,
        village=village,
        township=village.township,
        address="幸福路8号",
        needs=items,
        need_note=need_note,
        consent_data_check=True,
        consent_share=consent_share,
        consent_publish=consent_publish,
        consent_version="test",
    )
    people = [
        ("王秀英", dt.date(1980, 3, 1), "self", "applicant", phone),
        (OTHER_MEMBER_NAME, dt.date(1978, 7, 15), "spouse", "member", "+8613700001111"),
    ]
    for position, (name, birth, relation, role, member_phone) in enumerate(people):
        number = make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)
        ApplicationMember.objects.create(
            application=app,
            role=role,
            position=position,
            name=name,
            id_number=number,
            id_number_hash=id_number_index(number),
            document_type="citizen",
            sex="M" if int(number[16]) % 2 else "F",
            birth_date=birth,
            phone=member_phone,
            phone_hash=phone_index(member_phone) if member_phone else "",
            relation=relation,
            must_authorise=True,
        )
    report = VerificationReport.objects.create(
        application=app,
        trigger=VerificationReport.Trigger.AUTHORISED,
        as_of=dt.date(2026, 1, 1),
        input_hash="0" * 64,
        results=[_result(i) for i in [*items, *rejected]],
    )
    for item in items:
        ItemDecision.objects.create(
            application=app,
            report=report,
            item=item,
            decision=ItemDecision.Decision.APPROVE,
            decided_by=decided_by,
        )
    for item in rejected:
        ItemDecision.objects.create(
            application=app,
            report=report,
            item=item,
            decision=ItemDecision.Decision.REJECT,
            reason="不符合",
            decided_by=decided_by,
        )
    return app


def other_member_id_number(app: Application) -> str:
    return ApplicationMember.objects.get(application=app, role="member").id_number


def open_case(village: Region, *, actor: Any, **kwargs: Any) -> Any:
    app = decided_application(village, decided_by=actor, **kwargs)
    return case_open_from_decisions(actor=actor, application_id=app.pk)
