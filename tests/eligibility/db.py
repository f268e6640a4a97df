"""Applications and pool rows made directly in the database for the service and admin tests."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from applications.models import Application, ApplicationMember
from assist_center.identity import make_id_number
from assist_center.models import Region
from assist_center.pii import id_number_index
from eligibility.demo import content_hash
from eligibility.models import PoolRecord
from eligibility.pool.categories import CATEGORIES
from eligibility.rules import DEMO_PARAMS, ITEMS
from eligibility.standards import standard_publish

_seq = itertools.count(100)
_rec = itertools.count(1)


@dataclass
class Member:
    name: str
    birth: dt.date
    relation: str = "self"
    role: str = "member"
    records: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    hukou: bool = True

    def add(self, category: str, days_ago: int, **data: Any) -> Member:
        self.records.append((category, days_ago, data))
        return self


def publish_demo_standards(county: Region, *, actor: Any = "test") -> None:
    for item in ITEMS:
        standard_publish(
            actor=actor,
            item=item,
            region=county,
            effective_from=dt.date(2026, 1, 1),
            params=DEMO_PARAMS[item],
            note="",
            today=dt.date(2026, 1, 1),
        )


def make_application(
    village: Region,
    members: list[Member],
    *,
    status: str = Application.Status.AUTHORISED,
    needs: list[str] | None = None,
) -> Application:
    assert village.township is not None
    app = Application.objects.create(
        receipt_code=secrets.token_hex(5).upper(),
        family_token=secrets.token_urlsafe(32),
        status=status,
        code_region=village,
        village=village,
        township=village.township,
        address="幸福路1号",
        needs=needs if needs is not None else ["dibao"],
        consent_data_check=True,
        consent_share=False,
        consent_publish=False,
        consent_version="test",
    )
    today = timezone.localdate()
    rows = []
    for position, m in enumerate(members):
        number = make_id_number(region6="331099", birth=m.birth, seq=next(_seq) % 1000)
        person_hash = id_number_index(number)
        ApplicationMember.objects.create(
            application=app,
            role="applicant" if position == 0 else m.role,
            position=position,
            name=m.name,
            id_number=number,
            id_number_hash=person_hash,
            document_type="citizen",
            sex="M" if int(number[16]) % 2 else "F",
            birth_date=m.birth,
            relation=m.relation,
            must_authorise=True,
        )
        records = list(m.records)
        if m.hukou and m.role != "supporter":
            records.append(
                ("hukou", 3000, {"household_number": f"HH{app.pk}", "relation": m.relation, "status": "正常"})
            )
        for category, days_ago, data in records:
            rows.append(
                PoolRecord(
                    category=category,
                    department=CATEGORIES[category].department,
                    source_record_id=f"T{next(_rec)}",
                    person_hash=person_hash,
                    effective_date=today - dt.timedelta(days=days_ago),
                    data=data,
                    content_hash=content_hash(data),
                    updated_at=timezone.now(),
                )
            )
    PoolRecord.objects.bulk_create(rows)
    return app


def poor_family() -> list[Member]:
    """Two unemployed adults and a pupil, no assets: dibao, and several items unasked."""
    return [
        Member("王秀英", dt.date(1980, 3, 1)).add("unemployment", 100, status="登记中"),
        Member("李建国", dt.date(1978, 7, 15), "spouse").add("unemployment", 100, status="登记中"),
        Member("李小明", dt.date(2015, 5, 1), "child").add("student", 60, stage="小学", status="在读"),
    ]


def rich_family() -> list[Member]:
    head = Member("张富贵", dt.date(1975, 1, 1)).add(
        "vehicle", 100, vehicle_type="小型轿车", plate_kind="小型汽车", status="正常"
    )
    for n in range(12):
        head.add("wage", 15 + 30 * n, amount="9000")
    return [head]
